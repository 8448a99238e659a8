package strategy

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/monkonomy/monkonomy/market/rules"
)

// logSink collects a script's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) log(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, msg)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func load(t *testing.T, src string, limits ScriptLimits) (*Script, *logSink) {
	t.Helper()
	sink := &logSink{}
	s, err := LoadScript("bot.star", []byte(src), ScriptOptions{Limits: limits, Log: sink.log})
	if err != nil {
		t.Fatal(err)
	}
	return s, sink
}

func TestScriptActionsAndMemoryPersistBetweenTicks(t *testing.T) {
	s, _ := load(t, `
def on_tick(tick, account, memory):
    memory["n"] = memory.get("n", 0) + 1
    if memory["n"] == 1:
        return [feed(1), invest("2.5"), invest(3), invest(0.1234567)]
    if tick.forecast > 1:
        return [buy(memory["n"])]
    return (sell(1), gibb("banana up #mktd"))
`, ScriptLimits{})
	var got []string
	got = append(got, actionStrings(s.OnTick(tick(1, "1", "1"), account("10", 5)))...)
	got = append(got, actionStrings(s.OnTick(tick(2, "1", "1.2"), account("10", 5)))...)
	got = append(got, actionStrings(s.OnTick(tick(3, "1", "0.9"), account("10", 5)))...)
	want := []string{"feed 1", "invest 2.500000", "invest 3.000000", "invest 0.123457", "buy 2", "sell 1", `gibb "banana up #mktd"`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if st := s.Stats(); st.Calls != 3 || st.Errors != 0 {
		t.Fatalf("stats %s", st)
	}
}

func TestScriptSeesTickAccountResultAndGibbFields(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    memory["tick"] = "%d %s %s %s %s %s %d %s %d" % (tick.seq, tick.price_str, tick.forecast_str, tick.forecast > 1.01 and tick.forecast < 1.02, tick.phase, account.coins_str, account.shares, account.score, tick.time_ms)
def on_result(result, memory):
    memory["result"] = "%s %s %s %s %s %d" % (result.id, result.kind, result.status, result.reason, result.price_str, result.account.fed)
def on_gibb(gibb, memory):
    memory["gibb"] = "%s %s %d %s" % (gibb.author, gibb.text, gibb.points, gibb.burst)
    return buy(1)
`, ScriptLimits{})
	a := account("12.5", 3)
	a.Fed, a.Bailouts = 25, 1
	s.OnTick(tick(7, "1.25", "1.015"), a)
	s.OnResult(rules.Result{ID: "o-1", Kind: rules.KindSell, Status: rules.StatusInsufficientShares, Reason: "no shares", Price: 1_250_000, Account: rules.Account{Fed: 4}})
	got := s.OnGibb(rules.GibbEffect{Author: "ana", Text: "banana up", Points: 1, Burst: true})
	if len(got) != 1 || got[0].String() != "buy 1" {
		t.Fatalf("on_gibb returned %v", got)
	}
	want := map[string]string{
		"tick":   "7 1.250000 1.015000 True open 12.500000 3 5 7000",
		"result": "o-1 sell insufficient_shares no shares 1.250000 4",
		"gibb":   "ana banana up 1 True",
	}
	for k, w := range want {
		v, _, _ := s.memory.Get(starlarkString(k))
		if v == nil || strings.Trim(v.String(), `"`) != w {
			t.Errorf("memory[%q] = %v, want %q; log:\n%s", k, v, w, sink)
		}
	}
}

func TestScriptInfiniteLoopIsStoppedAndTheNextTickRuns(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    if tick.seq == 1:
        while True:
            pass
    return [buy(1)]
`, ScriptLimits{Budget: 50 * time.Millisecond})
	if got := s.OnTick(tick(1, "1", "1"), account("10", 5)); got != nil {
		t.Fatalf("an overrun call returned %v", got)
	}
	if got := s.OnTick(tick(2, "1", "1"), account("10", 5)); len(got) != 1 {
		t.Fatalf("the tick after an overrun returned %v, want buy 1", got)
	}
	st := s.Stats()
	if st.Errors != 1 || st.Overruns != 1 || st.Calls != 2 {
		t.Fatalf("stats %s, want one error that is an overrun", st)
	}
	// The step limit stops it, or the clock on a slow machine.
	if log := sink.String(); !strings.Contains(log, "bot.star:6:") || !strings.Contains(log, "in on_tick: Starlark computation cancelled: ") {
		t.Fatalf("log does not point at the loop:\n%s", sink)
	}
}

func TestScriptOverWallClockBudgetIsCancelled(t *testing.T) {
	// Sorting a long list is few steps but real time: only the clock stops it.
	s, sink := load(t, `
def on_tick(tick, account, memory):
    for i in range(1000000):
        sorted(range(100000))
`, ScriptLimits{Budget: 20 * time.Millisecond, Steps: 1 << 60})
	start := time.Now()
	s.OnTick(tick(1, "1", "1"), account("10", 5))
	if s.Stats().Overruns != 1 {
		t.Fatalf("stats %s after %s, want an overrun; log:\n%s", s.Stats(), time.Since(start), sink)
	}
	if !strings.Contains(sink.String(), "time budget of 20ms") {
		t.Fatalf("log does not name the time budget:\n%s", sink)
	}
}

func TestScriptMemoryIsBounded(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    memory.setdefault("log", []).append("x" * 1000)
    return [buy(1)]
`, ScriptLimits{Memory: 10_000})
	for seq := int64(1); seq <= 25; seq++ {
		s.OnTick(tick(seq, "1", "1"), account("10", 5))
		budget := 10_000
		if !sizeOf(s.memory, &budget) {
			t.Fatalf("memory over its limit after tick %d", seq)
		}
	}
	if st := s.Stats(); st.MemoryResets < 2 {
		t.Fatalf("stats %s: memory was never cleared", st)
	}
	if !strings.Contains(sink.String(), "memory held more than 10000 bytes and was cleared") {
		t.Fatalf("log does not report the reset:\n%s", sink)
	}
}

func TestScriptSelfReferencingMemoryIsMeasuredAndCleared(t *testing.T) {
	s, _ := load(t, `
def on_tick(tick, account, memory):
    l = [1]
    l.append(l)
    memory["l"] = l
`, ScriptLimits{})
	s.OnTick(tick(1, "1", "1"), account("10", 5))
	if s.Stats().MemoryResets != 1 {
		t.Fatalf("stats %s", s.Stats())
	}
}

func TestScriptErrorIsReportedWithItsLineAndTradingContinues(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    if tick.seq == 1:
        return [buy(0)]
    if tick.seq == 2:
        return 1 / 0
    if tick.seq == 3:
        return ["buy"]
    return [buy(1)]
`, ScriptLimits{})
	for seq := int64(1); seq <= 3; seq++ {
		if got := s.OnTick(tick(seq, "1", "1"), account("10", 5)); len(got) != 0 {
			t.Fatalf("tick %d: a failing call returned %v", seq, got)
		}
	}
	if got := s.OnTick(tick(4, "1", "1"), account("10", 5)); len(got) != 1 {
		t.Fatalf("tick 4 returned %v", got)
	}
	log := sink.String()
	for _, want := range []string{
		"bot.star:4:20: in on_tick: buy(0): the number of shares must be from 1 to 1000000",
		"bot.star:6:18: in on_tick: floating-point division by zero",
		"on_tick returned a string at position 0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if st := s.Stats(); st.Errors != 3 || st.Overruns != 0 {
		t.Fatalf("stats %s", st)
	}
}

func TestScriptTooManyActionsAreDropped(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    return [buy(1)] * 15
`, ScriptLimits{Actions: 4})
	if got := s.OnTick(tick(1, "1", "1"), account("10", 5)); len(got) != 4 {
		t.Fatalf("got %d actions, want the first 4", len(got))
	}
	if st := s.Stats(); st.DroppedActions != 11 {
		t.Fatalf("stats %s", st)
	}
	if !strings.Contains(sink.String(), "returned 15 actions; only the first 4 are sent") {
		t.Fatalf("log:\n%s", sink)
	}
}

func TestScriptThatDoesNotLoadPointsAtTheLine(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"syntax":        {"def on_tick(tick, account, memory):\n    return [buy(1)\n", "bot.star:3:1:"},
		"undefined":     {"def on_tick(tick, account, memory):\n    return [bye(1)]\n", "bot.star:2:13: undefined: bye"},
		"load":          {"load(\"x.star\", \"y\")\ndef on_tick(tick, account, memory):\n    pass\n", "bot.star:1:1: in <toplevel>: cannot load x.star: load() is not available"},
		"no on_tick":    {"x = 1\n", "defines no on_tick(tick, account, memory)"},
		"wrong params":  {"def on_tick(tick):\n    pass\n", "bot.star:1:1: on_tick takes 1 parameters"},
		"endless load":  {"while True:\n    pass\n", "bot.star:1:1: in <toplevel>: "},
		"fails at load": {"x = {}['a']\n", "bot.star:1:7: in <toplevel>: key \"a\" not in dict"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadScript("bot.star", []byte(c.src), ScriptOptions{Limits: ScriptLimits{Budget: 10 * time.Millisecond}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestScriptPrintIsLoggedAndBounded(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    for i in range(50):
        print("tick", tick.seq, i)
`, ScriptLimits{Prints: 3})
	s.OnTick(tick(1, "1", "1"), account("10", 5))
	if n := strings.Count(sink.String(), "print: tick 1"); n != 3 {
		t.Fatalf("logged %d print lines, want 3:\n%s", n, sink)
	}
}

func TestInvestAmountsConvertExactly(t *testing.T) {
	cases := []struct {
		src  string
		want rules.Micro
	}{
		{`"2.5"`, 2_500_000},
		{`"0.000001"`, 1},
		{`7`, 7_000_000},
		{`0.1`, 100_000},
		{`1.23456789`, 1_234_568}, // the nearest micro-coin, as "%.6f" prints it
		{`2.0000004`, 2_000_000},
	}
	for _, c := range cases {
		s, _ := load(t, "def on_tick(tick, account, memory):\n    return [invest("+c.src+")]\n", ScriptLimits{})
		got := s.OnTick(tick(1, "1", "1"), account("10", 5))
		if len(got) != 1 || got[0].Coins != c.want {
			t.Errorf("invest(%s) = %v, want %d micro-coins", c.src, got, c.want)
		}
	}
	s, sink := load(t, "def on_tick(tick, account, memory):\n    return [invest(\"1.1234567\")]\n", ScriptLimits{})
	s.OnTick(tick(1, "1", "1"), account("10", 5))
	if !strings.Contains(sink.String(), "more than 6 decimals") {
		t.Errorf("a 7-decimal amount was not refused clearly:\n%s", sink)
	}
}

func starlarkString(s string) starlark.String { return starlark.String(s) }

func TestScriptSeesTheScoreTheMarketComputed(t *testing.T) {
	s, sink := load(t, `
def on_tick(tick, account, memory):
    memory["tick"] = account.score
def on_result(result, memory):
    memory["result"] = result.account.score
`, ScriptLimits{})
	a := account("1", 0)
	a.Fed, a.Bailouts = 25, 1 // 5 with the default penalty of 20
	Tick(s, tick(1, "1", "1"), a, 15)
	s.OnResult(rules.Result{Kind: rules.KindFeed, Status: rules.StatusAccepted, Account: a, Score: 15})
	for _, k := range []string{"tick", "result"} {
		if v, _, _ := s.memory.Get(starlarkString(k)); v == nil || v.String() != "15" {
			t.Errorf("memory[%q] = %v, want the market's score 15; log:\n%s", k, v, sink)
		}
	}
}
