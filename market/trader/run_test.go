package trader_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func TestEveryBuiltinStrategyPlaysFiftyTicksAgainstTheEngine(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	names := strategy.Names()
	m.register(t, names...)
	recs := map[string]*recorder{}
	stops := map[string]func(){}
	for _, name := range names {
		s, err := strategy.New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs[name], stops[name] = m.play(t, name, s)
	}
	eventually(t, 30*time.Second, "50 ticks seen by every strategy", func() bool {
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
		orders, err := m.rdb.XLen(context.Background(), m.keys.Orders(name)).Result()
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, name+"'s results in its stream", func() bool {
			n, _ := m.rdb.XLen(context.Background(), m.keys.Results(name)).Result()
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
		acct, score := m.account(t, name)
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
			if acct.Fed < 4 || acct.Bailouts != 0 || byStatus[rules.StatusInsufficientCoins] > 0 {
				t.Errorf("%s fed %d monkeys with %d bailouts and %d orders over its coins", name, acct.Fed, acct.Bailouts, byStatus[rules.StatusInsufficientCoins])
			}
		}
	}
}

func TestScriptErrorsAndOverrunsDoNotStopTheTrader(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	m.register(t, "scripted")
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
	rec, stop := m.play(t, "scripted", s)
	eventually(t, 20*time.Second, "the script to feed after its errors", func() bool {
		a, _ := m.account(t, "scripted")
		ticks, _ := rec.snapshot()
		return len(ticks) >= 8 && a.Fed >= 3
	})
	stop()
	st := s.Stats()
	if st.Errors != 2 || st.Overruns != 1 || st.MemoryResets != 1 {
		t.Fatalf("stats %s, want 2 errors (1 overrun) and 1 memory reset; log:\n%s", st, logs.String())
	}
	for _, want := range []string{"bot.star:6:", "too many steps", "bot.star:8:", "division by zero", "memory held more than"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
