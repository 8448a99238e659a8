package backtest

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// Options describe a backtest.
type Options struct {
	// Trader is the name the strategy trades under ["backtest"]; it decides the returns of
	// its plantations, as live.
	Trader string
	// Strategy is played from the first recorded tick to the last.
	Strategy strategy.Strategy
	// Ticks are the recorded ticks (ticks.jsonl of `monkonomy export`), in order.
	Ticks []protocol.Tick
	// Gibbs are the recorded gibbs (gibbs.jsonl), shown to the strategy after the tick
	// they were posted in. Their effect is already in the recorded prices.
	Gibbs []protocol.Gibb
	// Config is the recorded market's rules (zero fields: the defaults). Its seed decides
	// the returns of plantations; its tick interval gives the market time of a recorded
	// tick that does not carry it (exports of older versions): (seq − 1) × interval, when
	// the engine publishes each tick.
	Config rules.Config
	// CSV, when set, receives one line per tick: the price and the account after it.
	CSV io.Writer
}

// Report is the outcome of a backtest.
type Report struct {
	Trader    string
	Ticks     int
	FirstSeq  int64
	LastSeq   int64
	Gibbs     int
	Orders    int64
	Accepted  int64
	Rejected  map[rules.Status]int64
	Harvests  int64
	Credited  rules.Micro
	Account   rules.Account
	Score     int64
	LastPrice rules.Micro
	NetWorth  rules.Micro
}

// Run plays the strategy against the recorded ticks. Each recorded tick is published as
// it was (rules.Market.ReplayTick), so the strategy's orders apply at the recorded prices,
// with the rules' bailouts, rate limits, plantations and harvests exactly as live; only
// the other players are missing, and the strategy's gibbs move no recorded price.
func Run(opts Options) (*Report, error) {
	if opts.Strategy == nil {
		return nil, errors.New("backtest: no strategy to play")
	}
	if opts.Trader == "" {
		opts.Trader = "backtest"
	}
	cfg := opts.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("market rules: %w", err)
	}
	ticks := openTicks(opts.Ticks)
	if len(ticks) == 0 {
		return nil, errors.New("the recording has no tick of an open market: export a market that has played at least one tick")
	}
	m := rules.NewMarket(cfg)
	p := newPlayer(m)
	st, err := p.add(opts.Trader, opts.Strategy)
	if err != nil {
		return nil, err
	}
	rep := &Report{Trader: opts.Trader, Rejected: map[rules.Status]int64{}}
	var row struct{ orders, accepted, rejected int64 }
	st.onResult = func(r rules.Result) {
		switch {
		case r.Kind == rules.KindHarvest:
			if r.Status == rules.StatusHarvest {
				rep.Harvests++
				rep.Credited += r.Credit
			}
			return
		case r.Status == rules.StatusAccepted:
			rep.Accepted++
			row.accepted++
		default:
			rep.Rejected[r.Status]++
			row.rejected++
		}
		rep.Orders++
		row.orders++
	}
	if err := m.SetPhase(rules.PhaseOpen); err != nil {
		return nil, err
	}
	var out *csv.Writer
	if opts.CSV != nil {
		out = csv.NewWriter(opts.CSV)
		_ = out.Write([]string{"tick", "price", "forecast", "hype", "orders", "accepted", "rejected",
			"coins", "shares", "fed", "bailouts", "inflight", "score", "net_worth"})
	}
	gibbs := opts.Gibbs
	interval := cfg.TickInterval.Milliseconds()
	for _, rec := range ticks {
		row.orders, row.accepted, row.rejected = 0, 0, 0
		// The recorded market time; exports of older versions lack it.
		p.advance(cmp.Or(rec.MarketMs, (rec.Seq-1)*interval))
		t := m.ReplayTick(rec.Rules())
		p.tick(t, 0)
		for len(gibbs) > 0 && gibbs[0].Tick <= rec.Seq {
			g := gibbs[0]
			gibbs = gibbs[1:]
			if g.Tick < ticks[0].Seq {
				continue
			}
			rep.Gibbs++
			p.gibb(g.Rules())
		}
		if out != nil {
			a, _ := m.Account(opts.Trader)
			_ = out.Write([]string{
				strconv.FormatInt(t.Seq, 10), t.Price.String(), t.Forecast.String(), t.Hype.String(),
				strconv.FormatInt(row.orders, 10), strconv.FormatInt(row.accepted, 10), strconv.FormatInt(row.rejected, 10),
				a.Coins.String(), strconv.FormatInt(a.Shares, 10), strconv.FormatInt(a.Fed, 10),
				strconv.FormatInt(a.Bailouts, 10), strconv.FormatInt(a.InFlight, 10),
				strconv.FormatInt(a.Score(cfg.BailoutPenalty), 10), rules.NetWorth(a, t.Price).String(),
			})
		}
	}
	if out != nil {
		out.Flush()
		if err := out.Error(); err != nil {
			return nil, fmt.Errorf("write the CSV: %w", err)
		}
	}
	last := m.LastTick()
	rep.Ticks, rep.FirstSeq, rep.LastSeq = len(ticks), ticks[0].Seq, last.Seq
	rep.Account, _ = m.Account(opts.Trader)
	rep.Score = rep.Account.Score(cfg.BailoutPenalty)
	rep.LastPrice = last.Price
	rep.NetWorth = rules.NetWorth(rep.Account, last.Price)
	return rep, nil
}

// openTicks keeps the ticks an open market published, one per tick number, in order; the
// entries that only announce a phase change are left out.
func openTicks(in []protocol.Tick) []protocol.Tick {
	var out []protocol.Tick
	for _, t := range in {
		if t.Phase != rules.PhaseOpen || (len(out) > 0 && t.Seq <= out[len(out)-1].Seq) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Write prints the report for a person.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	gibbs := "gibbs"
	if r.Gibbs == 1 {
		gibbs = "gibb"
	}
	fmt.Fprintf(&b, "Played %d ticks (%d to %d) as trader %s, with %d recorded %s.\n", r.Ticks, r.FirstSeq, r.LastSeq, r.Trader, r.Gibbs, gibbs)
	fmt.Fprintf(&b, "Orders:      %d sent, %d accepted, %d rejected", r.Orders, r.Accepted, r.Orders-r.Accepted)
	if len(r.Rejected) > 0 {
		var parts []string
		for _, s := range slices.Sorted(maps.Keys(r.Rejected)) {
			parts = append(parts, fmt.Sprintf("%s %d", s, r.Rejected[s]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\nHarvests:    %d, credited %s coins\n", r.Harvests, r.Credited)
	a := r.Account
	fmt.Fprintf(&b, "Account:     coins %s, shares %d, monkeys fed %d, bailouts %d, in flight %d\n", a.Coins, a.Shares, a.Fed, a.Bailouts, a.InFlight)
	fmt.Fprintf(&b, "Net worth:   %s coins at the last price %s\n", r.NetWorth, r.LastPrice)
	fmt.Fprintf(&b, "Score:       %d\n", r.Score)
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadTicks reads ticks.jsonl: one tick per line, as `monkonomy export` writes it.
func ReadTicks(r io.Reader, name string) ([]protocol.Tick, error) {
	return readLines[protocol.Tick](r, name)
}

// ReadGibbs reads gibbs.jsonl: one gibb per line, as `monkonomy export` writes it.
func ReadGibbs(r io.Reader, name string) ([]protocol.Gibb, error) {
	return readLines[protocol.Gibb](r, name)
}

func readLines[T any](r io.Reader, name string) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w (is this a file written by `monkonomy export`?)", name, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}
