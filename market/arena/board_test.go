package arena

import (
	"bytes"
	"strings"
	"testing"

	"github.com/monkonomy/monkonomy/market/engine"
)

func standings() []engine.Standing {
	return []engine.Standing{
		{Rank: 1, Trader: "feeder", Team: "Bot feeder", Score: 12, Fed: 12, Coins: "3.141592", Shares: 1, NetWorth: "4.15"},
		{Rank: 2, Trader: "random", Team: "Bot random", Score: -13, Fed: 7, Coins: "10.000000", Shares: 5, Bailouts: 1, InFlight: 2},
	}
}

func TestPlainBoardPrintsARankingBlockEveryNTicks(t *testing.T) {
	var out bytes.Buffer
	b := NewBoard(&out, false, 5)
	m := engine.MarketInfo{Market: "default/arena", Phase: "open", Price: "1.023456", Hype: "0.500000", Duration: "10m"}
	for tick := int64(1); tick <= 11; tick++ {
		m.Tick = tick
		m.MarketTimeMs = tick * 1000
		b.Update(m, standings())
	}
	got := out.String()
	if strings.Contains(got, "\x1b") {
		t.Fatalf("plain output holds terminal escape sequences:\n%q", got)
	}
	if n := strings.Count(got, "Leaderboard of default/arena"); n != 3 {
		t.Fatalf("got %d ranking blocks for ticks 1 to 11 printed every 5 ticks, want 3 (ticks 1, 6, 11):\n%s", n, got)
	}
	for _, want := range []string{
		"tick 1, price 1.0234, hype 0.50, open, 9:59 left",
		"tick 6,", "tick 11,",
		"RANK  TEAM        TRADER  SCORE  MONKEYS       COINS  SHARES  BAILOUTS  IN FLIGHT",
		"   1  Bot feeder  feeder     12       12        3.14       1         0          0",
		"   2  Bot random  random    -13        7       10.00       5         1          2",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plain board lacks %q:\n%s", want, got)
		}
	}
}

func TestPlainBoardPrintsTheFinalRanking(t *testing.T) {
	var out bytes.Buffer
	b := NewBoard(&out, false, 10)
	b.Final(engine.MarketInfo{Market: "default/arena", Phase: "closed", Tick: 42, Price: "0.990000", Hype: "0", MarketTimeMs: 42000}, standings())
	got := out.String()
	for _, want := range []string{"Final ranking of default/arena: tick 42", "closed, played 0:42", "   1  Bot feeder  feeder"} {
		if !strings.Contains(got, want) {
			t.Errorf("final ranking lacks %q:\n%s", want, got)
		}
	}
}

func TestTerminalBoardRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	b := NewBoard(&out, true, 10)
	m := engine.MarketInfo{Market: "default/arena", Phase: "open", Tick: 1, Price: "1", Hype: "0"}
	b.Update(m, standings())
	first := out.Len()
	if strings.Contains(out.String(), "\x1b[4F") {
		t.Fatalf("the first drawing moved the cursor up over earlier output: %q", out.String())
	}
	m.Tick = 2
	b.Update(m, standings())
	second := out.String()[first:]
	// 4 lines: header, column titles, two traders.
	if !strings.HasPrefix(second, "\x1b[4F") {
		t.Fatalf("the second drawing does not move back over the first 4 lines: %q", second)
	}
	if !strings.Contains(second, "tick 2,") {
		t.Fatalf("the redrawn board does not show tick 2: %q", second)
	}
}

func TestTerminalBoardCutsLinesThatWouldWrap(t *testing.T) {
	var out bytes.Buffer
	b := NewBoard(&out, true, 10)
	b.width = 40
	b.Update(engine.MarketInfo{Market: "default/arena", Phase: "open", Tick: 1, Price: "1", Hype: "0"}, standings())
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\x1b[J"), "\n") {
		line = strings.TrimSuffix(line, "\x1b[K")
		if n := len([]rune(line)); n >= 40 {
			t.Errorf("a line of %d characters on a terminal of 40 columns: %q", n, line)
		}
	}
}

func TestAnEmptyMarketSaysSo(t *testing.T) {
	lines := FormatBoard(engine.MarketInfo{Market: "default/arena", Phase: "pending"}, nil, false)
	if len(lines) != 2 || !strings.Contains(lines[1], "no traders yet") {
		t.Fatalf("board of a market without traders = %q", lines)
	}
}

func TestBuiltinSpecsAreCheckedBeforeTheGame(t *testing.T) {
	name, params, s, err := parseBuiltin("momentum:window=10,qty=2")
	if err != nil || name != "momentum" || params["window"] != "10" || params["qty"] != "2" || s == nil {
		t.Fatalf("parseBuiltin(momentum:window=10,qty=2) = %q, %v, %v, %v", name, params, s, err)
	}
	for _, bad := range []string{"nosuch", "momentum:speed=3", "momentum:window", "momentum:window=-1"} {
		if _, _, _, err := parseBuiltin(bad); err == nil {
			t.Errorf("parseBuiltin(%q) accepted a wrong spec", bad)
		} else if !strings.Contains(err.Error(), "--builtin "+bad) {
			t.Errorf("parseBuiltin(%q) error %q does not name the flag", bad, err)
		}
	}
}

func TestEveryTraderOfTheArenaGetsItsOwnName(t *testing.T) {
	list, err := entrants(Options{Bots: 6, Builtins: []string{"classic"}, Joins: []string{"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range list {
		if seen[e.Name] {
			t.Fatalf("trader name %q is used twice in %v", e.Name, list)
		}
		seen[e.Name] = true
	}
	if len(list) != 8 || !seen["classic-2"] || !seen["classic-3"] || !seen["team-a"] {
		t.Fatalf("traders = %v, want 6 bots (classic twice), one more classic and team-a", list)
	}
	if _, err := entrants(Options{Bots: 1, Joins: []string{"classic"}}); err == nil {
		t.Fatal("--join with the name of a bot was accepted")
	}
	if _, err := entrants(Options{Joins: []string{"Team A"}}); err == nil {
		t.Fatal("--join with a name that is not a DNS label was accepted")
	}
}
