package backtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// record plays n ticks of a market with a few people's gibbs (and, when s is set, a trader
// named trader playing s, as live) and returns the recording as `monkonomy export` writes
// it, and the trader's final account. When pauseAt is set, the market pauses half-way
// through that tick and opens again, as the engine announces it.
func record(t *testing.T, cfg rules.Config, n int, trader string, s strategy.Strategy, pauseAt int) (ticks, gibbs []byte, acct rules.Account) {
	t.Helper()
	m := rules.NewMarket(cfg)
	p := newPlayer(m)
	if s != nil {
		if _, err := p.add(trader, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SetPhase(rules.PhaseOpen); err != nil {
		t.Fatal(err)
	}
	var tb, gb bytes.Buffer
	start := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	interval := m.Config().TickInterval
	write := func(pt protocol.Tick) {
		line, err := json.Marshal(pt)
		if err != nil {
			t.Fatal(err)
		}
		tb.Write(append(line, '\n'))
	}
	for i := 1; i <= n; i++ {
		p.advance(int64(i-1) * interval.Milliseconds())
		tk := m.Tick()
		write(protocol.TickFromRules(tk, start.Add(time.Duration(i)*interval)))
		p.tick(tk, 0)
		if i == pauseAt {
			p.advance(int64(i-1)*interval.Milliseconds() + interval.Milliseconds()/2)
			for _, ph := range []rules.Phase{rules.PhasePaused, rules.PhaseOpen} {
				if err := m.SetPhase(ph); err != nil {
					t.Fatal(err)
				}
				pt := protocol.TickFromRules(m.LastTick(), start.Add(time.Duration(i)*interval))
				pt.Phase, pt.MarketMs = ph, m.TimeMs()
				write(pt)
			}
		}
		if i%40 == 0 {
			g, status, reason := m.PostGibb("ana", "banana up, good and solid #mktd")
			if status != rules.StatusAccepted {
				t.Fatalf("gibb refused: %s", reason)
			}
			line, _ := json.Marshal(protocol.GibbFromRules(g, start.Add(time.Duration(i)*interval)))
			gb.Write(append(line, '\n'))
		}
	}
	if s != nil {
		acct, _ = m.Account(trader)
	}
	return tb.Bytes(), gb.Bytes(), acct
}

// readRecording reads a recording as `monkonomy backtest` does.
func readRecording(t *testing.T, ticks, gibbs []byte) ([]protocol.Tick, []protocol.Gibb) {
	t.Helper()
	tk, err := ReadTicks(bytes.NewReader(ticks), "ticks.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	gb, err := ReadGibbs(bytes.NewReader(gibbs), "gibbs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return tk, gb
}

func runBacktest(t *testing.T, s strategy.Strategy, ticks, gibbs []byte, cfg rules.Config, trader string) (string, string) {
	t.Helper()
	tk, gb := readRecording(t, ticks, gibbs)
	var csvOut, out bytes.Buffer
	rep, err := Run(Options{Trader: trader, Strategy: s, Ticks: tk, Gibbs: gb, Config: cfg, CSV: &csvOut})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.String(), csvOut.String()
}

func mustNew(t *testing.T, name string, p strategy.Params) strategy.Strategy {
	t.Helper()
	s, err := strategy.New(name, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBacktestOfARecordedGameIsByteForByteDeterministic(t *testing.T) {
	cfg := rules.Config{Seed: 42}
	ticks, gibbs, _ := record(t, cfg, 200, "", nil, 0)
	script := []byte(`
def on_tick(tick, account, memory):
    memory["n"] = memory.get("n", 0) + 1
    if tick.forecast > 1:
        return [buy(1), invest(account.coins / 2)]
    return [sell(2), feed(1)]

def on_gibb(gibb, memory):
    return [gibb("banana " + str(gibb.points))]
`)
	for _, name := range []string{"classic", "random", "script"} {
		t.Run(name, func(t *testing.T) {
			fresh := func() strategy.Strategy {
				if name == "script" {
					s, err := strategy.LoadScript("bot.star", script, strategy.ScriptOptions{})
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
				return mustNew(t, name, nil)
			}
			out1, csv1 := runBacktest(t, fresh(), ticks, gibbs, cfg, "backtest")
			out2, csv2 := runBacktest(t, fresh(), ticks, gibbs, cfg, "backtest")
			if out1 != out2 || csv1 != csv2 {
				t.Fatalf("two runs differ:\n%s\n%s", out1, out2)
			}
			if !strings.Contains(out1, "Played 200 ticks (1 to 200) as trader backtest, with 5 recorded gibbs.") {
				t.Fatalf("report:\n%s", out1)
			}
			if lines := strings.Count(csv1, "\n"); lines != 201 {
				t.Fatalf("CSV has %d lines, want a header and 200 ticks", lines)
			}
		})
	}
}

func TestBacktestGivesTheLiveResultsOfTheRecordedMarket(t *testing.T) {
	// A feeder that played live in a market ends with the same account as the feeder
	// backtested on that market's recording.
	cfg := rules.Config{Seed: 9}
	ticks, gibbs, live := record(t, cfg, 300, "team-a", mustNew(t, "feeder", nil), 0)
	tk, gb := readRecording(t, ticks, gibbs)
	rep, err := Run(Options{Trader: "team-a", Strategy: mustNew(t, "feeder", nil), Ticks: tk, Gibbs: gb, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	// ScoredAt counts every event of the market, the people's gibbs included; it only
	// breaks ties between traders.
	rep.Account.ScoredAt, live.ScoredAt = 0, 0
	if rep.Account != live {
		t.Fatalf("backtest account %+v\nlive account     %+v", rep.Account, live)
	}
	if live.Fed < 10 || rep.Harvests == 0 {
		t.Fatalf("the feeder fed %d monkeys and harvested %d times: the test plays too little", live.Fed, rep.Harvests)
	}
}

func TestBacktestPlaysAtTheRecordedMarketTime(t *testing.T) {
	// A market ticking every 100ms that paused once, backtested without its tick interval
	// (as `monkonomy backtest` without --config): the market time of each recorded tick,
	// not a guess from the interval, decides when plantations are harvested.
	ticks, gibbs, live := record(t, rules.Config{Seed: 9, TickInterval: 100 * time.Millisecond}, 300, "team-a", mustNew(t, "feeder", nil), 150)
	if n := bytes.Count(ticks, []byte(`"phase":"paused"`)); n != 1 {
		t.Fatalf("the recording has %d pauses, want 1", n)
	}
	tk, gb := readRecording(t, ticks, gibbs)
	rep, err := Run(Options{Trader: "team-a", Strategy: mustNew(t, "feeder", nil), Ticks: tk, Gibbs: gb, Config: rules.Config{Seed: 9}})
	if err != nil {
		t.Fatal(err)
	}
	rep.Account.ScoredAt, live.ScoredAt = 0, 0
	if rep.Ticks != 300 || rep.Account != live {
		t.Fatalf("backtest of %d ticks: account %+v\nlive account %+v", rep.Ticks, rep.Account, live)
	}
	if rep.Harvests < 10 {
		t.Fatalf("the feeder harvested %d times: the test plays too little", rep.Harvests)
	}
}

// scripted plays a fixed list of actions per tick.
type scripted map[int64][]strategy.Action

func (s scripted) OnTick(t rules.Tick, _ rules.Account) []strategy.Action { return s[t.Seq] }

func TestBacktestAppliesOrdersAtTheRecordedPrices(t *testing.T) {
	ticks := []byte(`{"seq":1,"price":"2.500000","forecast":"1.000000","ema":"2.500000","hype":"0.000000","burst":0,"phase":"open","time":"2026-01-02T15:04:05.000Z"}
{"seq":1,"price":"2.500000","forecast":"1.000000","ema":"2.500000","hype":"0.000000","burst":0,"phase":"paused","time":"2026-01-02T15:04:06.000Z"}
{"seq":2,"price":"3.000000","forecast":"0.980000","ema":"2.550000","hype":"0.000000","burst":0,"phase":"open","time":"2026-01-02T15:04:09.000Z"}
`)
	s := scripted{
		1: {strategy.Buy(2), strategy.Buy(9)},
		2: {strategy.Sell(1), strategy.Feed(6), strategy.Feed(5)}, // the second feed finds no share left,
	}
	out, csvOut := runBacktest(t, s, ticks, nil, rules.Config{}, "backtest")
	for _, want := range []string{
		"Played 2 ticks (1 to 2)",
		"Orders:      5 sent, 3 accepted, 2 rejected (insufficient_coins 1, insufficient_shares 1)",
		"Account:     coins 8.000000, shares 0, monkeys fed 6, bailouts 0, in flight 0",
		"Score:       6",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	wantCSV := "tick,price,forecast,hype,orders,accepted,rejected,coins,shares,fed,bailouts,inflight,score,net_worth\n" +
		"1,2.500000,1.000000,0.000000,2,1,1,5.000000,7,0,0,0,0,22.500000\n" +
		"2,3.000000,0.980000,0.000000,3,2,1,8.000000,0,6,0,0,6,8.000000\n"
	if csvOut != wantCSV {
		t.Fatalf("CSV:\n%s\nwant:\n%s", csvOut, wantCSV)
	}
}

func TestBacktestPointsAtABadLine(t *testing.T) {
	_, err := ReadTicks(strings.NewReader("{\"seq\":1}\nnot json\n"), "ticks.jsonl")
	if err == nil || !strings.Contains(err.Error(), "ticks.jsonl:1:") {
		t.Fatalf("error %v does not point at line 1", err)
	}
}

func TestSimulationIsDeterministicForASeedAndRanksEveryBot(t *testing.T) {
	play := func(seed uint64) string {
		res, err := Simulate(SimOptions{Ticks: 200, Seed: seed, Bots: []string{"classic", "momentum", "mean-reversion", "feeder", "random", "random"}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := res.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b, c := play(5), play(5), play(6)
	if a != b {
		t.Fatalf("the same seed gave two games:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatal("seeds 5 and 6 gave the same game")
	}
	for _, want := range []string{"Simulated 200 ticks of the banana market (seed 5) with 6 bots.", "RANK  TRADER", "random-2", "crowd"} {
		if !strings.Contains(a, want) {
			t.Errorf("output lacks %q:\n%s", want, a)
		}
	}
	for rank := 1; rank <= 6; rank++ {
		if !strings.Contains(a, "\n   "+string(rune('0'+rank))+"  ") {
			t.Errorf("no line for rank %d:\n%s", rank, a)
		}
	}
}

func TestSimulationRefusesAnUnknownBot(t *testing.T) {
	if _, err := Simulate(SimOptions{Bots: []string{"oracle"}}); err == nil || !strings.Contains(err.Error(), `unknown strategy "oracle"`) {
		t.Fatalf("error %v", err)
	}
}
