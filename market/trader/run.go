package trader

import (
	"context"
	"log/slog"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// StandingEvery is how many ticks apart Run logs the trader's standing.
const StandingEvery = 60

// statser is a strategy that counts its own troubles (a Starlark script).
type statser interface{ Stats() strategy.ScriptStats }

// Run plays s live on c until ctx ends: each tick goes to s (strategy.Tick) with the latest
// known account and the market's score of it, each result to OnResult and each gibb to
// OnGibb when s has them, and every action they return is sent as an order with a fresh id.
// It logs what a person watching wants to know: rejected orders, harvests, bailouts, phase
// changes, and the standing every StandingEvery ticks. A nil log means slog.Default(). It
// returns ctx's error.
func Run(ctx context.Context, c *Client, s strategy.Strategy, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	r := &runner{c: c, s: s, log: log, phase: c.LastTick().Phase, lastSeq: c.LastTick().Seq}
	a, _ := c.Account()
	r.bailouts = a.Bailouts
	log.Info("Started trading", "market", c.Market().String(), "trader", c.Trader(), "tick", r.lastSeq)
	return c.Listen(ctx, Handlers{
		OnTick:   func(t protocol.Tick) { r.onTick(ctx, t) },
		OnResult: func(res protocol.Result) { r.onResult(ctx, res) },
		OnGibb:   func(g protocol.Gibb) { r.onGibb(ctx, g) },
	})
}

type runner struct {
	c        *Client
	s        strategy.Strategy
	log      *slog.Logger
	phase    rules.Phase
	lastSeq  int64
	bailouts int64
}

func (r *runner) onTick(ctx context.Context, t protocol.Tick) {
	if t.Phase != r.phase {
		r.log.Info("Market changed phase", "phase", t.Phase.String(), "tick", t.Seq)
		r.phase = t.Phase
	}
	if t.Phase != rules.PhaseOpen || t.Seq <= r.lastSeq {
		return
	}
	r.lastSeq = t.Seq
	a, score := r.c.Account()
	r.send(ctx, strategy.Tick(r.s, t.Rules(), a, score))
	if t.Seq%StandingEvery == 0 {
		attrs := []any{"tick", t.Seq, "price", t.Price.String(), "score", score, "fed", a.Fed,
			"coins", a.Coins.String(), "shares", a.Shares, "bailouts", a.Bailouts, "inflight", a.InFlight}
		if st, ok := r.s.(statser); ok {
			attrs = append(attrs, "script", st.Stats().String())
		}
		r.log.Info("Standing", attrs...)
	}
}

func (r *runner) onResult(ctx context.Context, res protocol.Result) {
	switch {
	case res.Status == rules.StatusHarvest:
		r.log.Info("Harvested a plantation", "order", res.ID, "credit", res.Credit.String(), "coins", res.Account.Coins.String())
	case res.Status != rules.StatusAccepted:
		r.log.Warn("Market rejected an order", "order", res.ID, "kind", res.Kind.String(), "status", res.Status.String(), "reason", res.Reason)
	default:
		r.log.Debug("Order accepted", "order", res.ID, "kind", res.Kind.String(), "price", res.Price.String())
	}
	if res.Account.Bailouts > r.bailouts {
		r.log.Warn("Bailed out: the market refilled the account, the score loses the penalty", "bailouts", res.Account.Bailouts, "score", res.Score)
	}
	r.bailouts = res.Account.Bailouts
	if h, ok := r.s.(strategy.ResultHandler); ok {
		r.send(ctx, h.OnResult(res.Rules(r.c.Trader())))
	}
}

func (r *runner) onGibb(ctx context.Context, g protocol.Gibb) {
	if h, ok := r.s.(strategy.GibbHandler); ok {
		r.send(ctx, h.OnGibb(g.Rules()))
	}
}

func (r *runner) send(ctx context.Context, actions []strategy.Action) {
	for _, a := range actions {
		id, err := r.c.Send(ctx, a.Order(r.c.Trader(), ""))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("Failed to send an order", "action", a.String(), "err", err)
			}
			return
		}
		r.log.Debug("Sent an order", "order", id, "action", a.String())
	}
}
