package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Difference is one way the replayed market differs from what the engine stored.
type Difference struct {
	Trader string // empty for a difference of the market itself
	Detail string
}

func (d Difference) String() string {
	if d.Trader == "" {
		return d.Detail
	}
	return "trader " + d.Trader + ": " + d.Detail
}

// AuditReport is the outcome of Audit.
type AuditReport struct {
	Batches     int64
	Events      int64
	Traders     int
	Differences []Difference
}

// journalChunk is how many journal entries are read at once.
const journalChunk = 500

// Audit replays market m's journal through the rules and compares the accounts it ends
// with to the accounts hash. The engine must be stopped or the market idle for a clean
// comparison: a batch written during the audit shows up as a difference.
func Audit(ctx context.Context, rdb *redis.Client, m protocol.Market) (AuditReport, error) {
	var rep AuditReport
	k := m.Keys()
	var market *rules.Market
	diff := func(trader, format string, args ...any) {
		rep.Differences = append(rep.Differences, Difference{Trader: trader, Detail: fmt.Sprintf(format, args...)})
	}
	err := eachJournalEntry(ctx, rdb, k, func(batch int64, events []protocol.JournalEvent) error {
		rep.Batches++
		for _, ev := range events {
			rep.Events++
			if market == nil && ev.Type != protocol.JournalConfig {
				return fmt.Errorf("journal batch %d starts with %q, not with the market's rules", batch, ev.Type)
			}
			switch ev.Type {
			case protocol.JournalConfig:
				var cfg rules.Config
				if err := json.Unmarshal([]byte(ev.Config), &cfg); err != nil {
					return fmt.Errorf("journal batch %d: market rules: %w", batch, err)
				}
				if market == nil {
					market = rules.NewMarket(cfg)
					continue
				}
				accounts := map[string]rules.Account{}
				market.Accounts(func(t string, a rules.Account) { accounts[t] = a })
				next, err := rules.Restore(cfg, market.State(), accounts)
				if err != nil {
					return fmt.Errorf("journal batch %d: %w", batch, err)
				}
				market = next
			case protocol.JournalTrader:
				market.AddTrader(ev.Trader)
			case protocol.JournalPhase:
				if err := market.SetPhase(ev.Phase); err != nil {
					diff("", "batch %d: %v", batch, err)
				}
			case protocol.JournalTime:
				market.SetTime(ev.TimeMs)
			case protocol.JournalTick:
				if t := market.Tick(); t.Seq != ev.Seq || t.Price != ev.Price {
					diff("", "batch %d: tick %d at %s replays as tick %d at %s", batch, ev.Seq, ev.Price, t.Seq, t.Price)
				}
			case protocol.JournalOrder:
				if res := market.Apply(ev.Order); res.Status != ev.Status {
					diff(ev.Trader, "batch %d: order %s was %s, replays as %s", batch, ev.Order.ID, ev.Status, res.Status)
				}
			case protocol.JournalGibb:
				if _, st, reason := market.PostGibb(ev.Author, ev.Text); st != rules.StatusAccepted {
					diff("", "batch %d: gibb of %s replays as %s: %s", batch, ev.Author, st, reason)
				}
			case protocol.JournalHarvest:
				market.Harvest(ev.Plantation)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	stored, err := rdb.HGetAll(ctx, k.Accounts()).Result()
	if err != nil {
		return rep, fmt.Errorf("read accounts %s: %w", k.Accounts(), err)
	}
	replayed := map[string]rules.Account{}
	if market != nil {
		market.Accounts(func(t string, a rules.Account) { replayed[t] = a })
	}
	names := make([]string, 0, len(stored)+len(replayed))
	for t := range stored {
		names = append(names, t)
	}
	for t := range replayed {
		if _, ok := stored[t]; !ok {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	rep.Traders = len(names)
	for _, t := range names {
		want, inJournal := replayed[t]
		raw, inRedis := stored[t]
		switch {
		case !inRedis:
			diff(t, "in the journal but has no account")
			continue
		case !inJournal:
			diff(t, "has an account but never appears in the journal")
			continue
		}
		_, got, err := protocol.DecodeAccount(raw)
		if err != nil {
			diff(t, "account cannot be read: %v", err)
			continue
		}
		if got != want {
			diff(t, "account is %+v, the journal replays to %+v", got, want)
		}
	}
	return rep, nil
}

// eachJournalEntry calls fn for every journal entry, oldest first.
func eachJournalEntry(ctx context.Context, rdb *redis.Client, k protocol.Keys, fn func(batch int64, events []protocol.JournalEvent) error) error {
	return eachEntry(ctx, rdb, k.Journal(), func(msg redis.XMessage) error {
		raw, _ := msg.Values[protocol.FieldEvents].(string)
		batch, _ := msg.Values[protocol.FieldBatch].(string)
		n, _ := strconv.ParseInt(batch, 10, 64)
		events, err := protocol.ParseJournal(raw)
		if err != nil {
			return err
		}
		return fn(n, events)
	})
}
