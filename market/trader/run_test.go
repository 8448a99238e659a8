package trader_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func TestEveryBuiltinStrategyPlaysFiftyTicksAgainstTheEngine(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	names := strategy.Names()
	m.Register(t, names...)
	recs := map[string]*recorder{}
	stops := map[string]func(){}
	for _, name := range names {
		s, err := strategy.New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs[name], stops[name] = play(t, m, name, s)
	}
	testutil.Eventually(t, 30*time.Second, "50 ticks seen by every strategy", func() bool {
		for _, r := range recs {
			if ticks, _ := r.snapshot(); len(ticks) < 50 {
				return false
			}
		}
		return true
	})
	for _, stop := range stops {
		stop()
	}
	for _, name := range names {
		ticks, _ := recs[name].snapshot()
		for i := 1; i < len(ticks); i++ {
			if ticks[i] <= ticks[i-1] {
				t.Fatalf("%s saw tick %d after tick %d", name, ticks[i], ticks[i-1])
			}
		}
		// Every order sent gets exactly one result, which the runtime hands to the strategy.
		orders, err := m.Redis.XLen(context.Background(), m.Keys.Orders(name)).Result()
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, name+"'s results in its stream", func() bool {
			n, _ := m.Redis.XLen(context.Background(), m.Keys.Results(name)).Result()
			return n >= orders
		})
		_, results := recs[name].snapshot()
		byStatus := map[rules.Status]int{}
		var answered int64
		for _, r := range results {
			byStatus[r.Status]++
			if r.Kind != rules.KindHarvest {
				answered++
			}
			if r.Status == rules.StatusInvalid {
				t.Errorf("%s sent an invalid order: %s", name, r.Reason)
			}
		}
		if orders == 0 || byStatus[rules.StatusAccepted] == 0 {
			t.Errorf("%s sent %d orders, %d accepted", name, orders, byStatus[rules.StatusAccepted])
		}
		if answered > orders {
			t.Errorf("%s got %d answers for %d orders", name, answered, orders)
		}
		acct, score := m.Account(t, name)
		t.Logf("%-15s ticks=%d orders=%d results=%v fed=%d coins=%s shares=%d bailouts=%d score=%d",
			name, len(ticks), orders, byStatus, acct.Fed, acct.Coins, acct.Shares, acct.Bailouts, score)
		switch name {
		case "classic":
			if acct.Fed != 1 || byStatus[rules.StatusHarvest] == 0 {
				t.Errorf("classic fed %d monkeys (want exactly 1) and harvested %d times", acct.Fed, byStatus[rules.StatusHarvest])
			}
		case "feeder":
			if acct.Fed < 10 || acct.Bailouts != 0 {
				t.Errorf("feeder fed %d monkeys with %d bailouts in 50 ticks, want at least 10 and none", acct.Fed, acct.Bailouts)
			}
		case "momentum", "mean-reversion":
			// A strategy acts on the account of the results it has seen; with 25 ms ticks on
			// a busy machine a result can arrive after the next tick, so a rare order over
			// its coins is the engine doing its job. Blind buying would be most orders.
			if acct.Fed < 4 || acct.Bailouts != 0 || byStatus[rules.StatusInsufficientCoins] > int(orders)/10 {
				t.Errorf("%s fed %d monkeys with %d bailouts and %d orders over its coins", name, acct.Fed, acct.Bailouts, byStatus[rules.StatusInsufficientCoins])
			}
		}
	}
}

func TestScriptErrorsAndOverrunsDoNotStopTheTrader(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	m.Register(t, "scripted")
	src := `
def on_tick(tick, account, memory):
    memory["n"] = memory.get("n", 0) + 1
    if memory["n"] == 2:
        while True:
            pass
    if memory["n"] == 3:
        return [buy(1) for i in range(20)] + [1 / 0]
    if memory["n"] == 4:
        memory["big"] = ["banana" * 1000 for i in range(1000)]
    return [feed(1)] if account.shares > 1 else []
`
	var logs strings.Builder
	s, err := strategy.LoadScript("bot.star", []byte(src), strategy.ScriptOptions{
		Limits: strategy.ScriptLimits{Budget: 50 * time.Millisecond},
		Log:    func(msg string) { logs.WriteString(msg + "\n") },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, stop := play(t, m, "scripted", s)
	testutil.Eventually(t, 20*time.Second, "the script to feed after its errors", func() bool {
		a, _ := m.Account(t, "scripted")
		ticks, _ := rec.snapshot()
		return len(ticks) >= 8 && a.Fed >= 3
	})
	stop()
	// Clearing memory restarts the script's count, so the troubles may come round again.
	st := s.Stats()
	if st.Errors < 2 || st.Overruns < 1 || st.MemoryResets < 1 || st.Errors < 2*st.MemoryResets || st.Errors > 2*st.MemoryResets+2 {
		t.Fatalf("stats %s, want 2 errors (1 overrun) per memory reset; log:\n%s", st, logs.String())
	}
	for _, want := range []string{"in on_tick: Starlark computation cancelled: ", "bot.star:8:49: in on_tick: floating-point division by zero", "memory held more than"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// scoreWatcher feeds one monkey per tick, keeping a share, and keeps the scores it is shown.
type scoreWatcher struct {
	mu     sync.Mutex
	scores map[int64]int64 // monkeys fed → score shown
}

func (w *scoreWatcher) OnTick(rules.Tick, rules.Account) []strategy.Action {
	panic("the runtime called OnTick on a strategy that wants the market's score")
}

func (w *scoreWatcher) OnScoredTick(_ rules.Tick, a rules.Account, score int64) []strategy.Action {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scores[a.Fed] = score
	if a.Shares > 1 {
		return []strategy.Action{strategy.Feed(1)}
	}
	return nil
}

func TestRunShowsTheMarketsScoreWithEachTick(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	m.Register(t, "watcher")
	w := &scoreWatcher{scores: map[int64]int64{}}
	_, stop := play(t, m, "watcher", w)
	defer stop()
	testutil.Eventually(t, 20*time.Second, "four monkeys fed, as the strategy saw it", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		_, ok := w.scores[4]
		return ok
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	for fed, score := range w.scores {
		if score != fed { // no bailout: the score is the monkeys fed
			t.Errorf("with %d monkeys fed the strategy was shown a score of %d", fed, score)
		}
	}
}
