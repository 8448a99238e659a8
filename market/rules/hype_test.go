package rules

import (
	"math"
	"strings"
	"testing"
)

func TestGibbPoints(t *testing.T) {
	g := NewGibbScorer(Config{})
	for text, want := range map[string]int64{
		"I love #banana #mktd6 up up":         103,
		"Banana":                              0,
		"BANANA good great":                   2,
		"good great up":                       0, // no banana: not counted
		"banana bubble burst risk":            -3,
		"banana good!good":                    0, // "goodgood" is one word
		"banana good! good":                   2,
		"banana\tup\nup\u00a0up":              3, // any white space separates words
		"banana ba-nana":                      0, // "banana" is a word; "banana" is neither positive nor negative
		"b-a-n-a-n-a up":                      0, // the text itself must contain "banana"
		"🍌 banana ❤️ love":                    1,
		"banana MKTD mktd #mktd":              300,
		"bAnAnA ÜP up":                        1, // "Üp" becomes "p"
		"banana \u212aind up":                 1, // Kelvin sign lower-cases to k: "kind"
		"banana " + strings.Repeat("up ", 90): 90,
	} {
		if got := g.Points(text); got != want {
			t.Errorf("Points(%q) = %d; want %d", text, got, want)
		}
	}
}

func TestGibbAddsItsPointsToTheHype(t *testing.T) {
	m := openMarket(t, Config{Seed: 1})
	eff, st, why := m.PostGibb("ann", "I love #banana #mktd6 up up")
	if st != StatusAccepted || why != "" || eff.Points != 103 || m.hype != 1_030_000 {
		t.Fatalf("PostGibb = %+v, %s, %q; hype %s; want 103 points and 1.030000 coins of hype", eff, st, why, m.hype)
	}
	if eff.Seq != 1 || eff.Author != "ann" || eff.Tick != 0 {
		t.Fatalf("gibb effect = %+v", eff)
	}
}

func TestBananaAloneIsCountedAndAGibbWithoutBananaAddsNothing(t *testing.T) {
	m := openMarket(t, Config{Seed: 1})
	m.PostGibb("ann", "love love love")
	if m.hype != 0 {
		t.Fatalf("a gibb without banana added %s of hype", m.hype)
	}
	m.Tick()
	eff, _, _ := m.PostGibb("ann", "Banana")
	if eff.Seq != 2 || eff.Points != 0 {
		t.Fatalf("\"Banana\" gibb = %+v; want it applied with 0 points", eff)
	}
	m.Tick()
	if eff, _, _ := m.PostGibb("ann", "Banana up"); eff.Points != 1 || m.hype != 10_000 {
		t.Fatalf("\"Banana up\" = %+v, hype %s; want 1 point, 0.010000", eff, m.hype)
	}
}

func TestHypeMovesThePrice(t *testing.T) {
	calm := openMarket(t, Config{Seed: 4})
	hyped := openMarket(t, Config{Seed: 4})
	hyped.PostGibb("ann", "banana up up") // 0.02 coins; a 0.02 % burst chance
	if hyped.burst.active {
		t.Fatal("seed 4 drew a burst; pick a seed that does not")
	}
	a, b := calm.Tick(), hyped.Tick()
	if b.Price-a.Price != 20_000 || b.Hype != 20_000 {
		t.Fatalf("price with 0.02 hype = %s, without %s; hype %s", b.Price, a.Price, b.Hype)
	}
}

func TestAFullBurstLeavesThirtyPercentOfTheHype(t *testing.T) {
	m := openMarket(t, Config{Seed: 2})
	m.hype = Coins(99) // earlier gibbs, as if 99 hashtags had been posted without a burst
	eff, _, _ := m.PostGibb("ann", "banana #mktd")
	if !eff.Burst {
		t.Fatalf("100 coins of hype did not start a burst: %+v", eff)
	}
	v := float64(m.hype)
	lowest := 1.0
	var steps []int64
	for n := 0; n < 60; n++ {
		tk := m.Tick()
		if tk.Burst != 0 {
			steps = append(steps, tk.Seq)
			if tk.Burst != len(steps) {
				t.Fatalf("tick %d applied burst step %d; want %d", tk.Seq, tk.Burst, len(steps))
			}
		}
		lowest = min(lowest, m.hypeInPrice()/v)
	}
	want := []int64{1, 6, 11, 16, 21, 26, 31, 36, 41, 46}
	if len(steps) != len(want) || steps[0] != 1 || steps[9] != 46 {
		t.Fatalf("burst steps at ticks %v; want %v", steps, want)
	}
	if left := m.hypeInPrice() / v; math.Abs(left-0.3026) > 0.00005 {
		t.Errorf("a full burst left %.4f of the hype; want 0.3026", left)
	}
	if math.Abs(lowest-0.2292) > 0.00005 {
		t.Errorf("a burst's deepest point left %.4f of the hype; want 0.2292", lowest)
	}
	if m.burst.active {
		t.Error("the burst is still running after 10 steps")
	}
}

func TestHypeAddedDuringABurstIsKept(t *testing.T) {
	m := openMarket(t, Config{Seed: 2})
	m.hype = Coins(99)
	m.PostGibb("ann", "banana #mktd")
	m.Tick()
	eff, _, _ := m.PostGibb("bob", "banana up") // no new burst while one runs
	if eff.Burst {
		t.Fatal("a second burst started while one was running")
	}
	for n := 0; n < 50; n++ {
		m.Tick()
	}
	want := 100*0.3026092608*1e6 + 10_000
	if got := m.hypeInPrice(); math.Abs(got-want) > 1 {
		t.Errorf("hype after the burst = %v; want %v (the later 0.01 kept whole)", got, want)
	}
}

func TestBurstChanceIsOnePercentPerCoinOfHype(t *testing.T) {
	// With 1 coin of hype in the price, about 1 gibb in 100 starts a burst.
	m := openMarket(t, Config{Seed: 6})
	m.hype = Coins(1)
	started := 0
	for i := 0; i < 20_000; i++ {
		m.burst = burst{}
		m.hype = Coins(1) - HypePerPoint
		if eff := m.applyGibb("ann", "banana up"); eff.Burst {
			started++
		}
	}
	if started < 150 || started > 250 {
		t.Errorf("%d bursts in 20000 gibbs at 1 coin of hype; want about 200", started)
	}
	m.burst, m.hype = burst{}, -Coins(50)
	if eff := m.applyGibb("ann", "banana bad"); eff.Burst {
		t.Error("negative hype started a burst")
	}
}

func TestGibbTextMustBeOneTo280Characters(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	for _, text := range []string{"", strings.Repeat("é", 281), "banana \xff"} {
		if eff, st, why := m.PostGibb("ann", text); st != StatusInvalid || why == "" || eff.Seq != 0 {
			t.Errorf("PostGibb(%d bytes) = %v, %q", len(text), st, why)
		}
		if r := m.Apply(Order{Trader: "alice", Kind: KindGibb, Text: text}); r.Status != StatusInvalid || r.Reason == "" {
			t.Errorf("gibb order of %d bytes = %v, %q", len(text), r.Status, r.Reason)
		}
	}
	if _, st, _ := m.PostGibb("ann", strings.Repeat("é", 280)); st != StatusAccepted {
		t.Errorf("a gibb of 280 characters was refused: %v", st)
	}
	if m.gibbSeq != 1 {
		t.Errorf("gibb sequence = %d; want 1 (refused gibbs are not applied)", m.gibbSeq)
	}
}

func TestOneGibbPerAuthorPerTick(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	if _, st, _ := m.PostGibb("ann", "banana up"); st != StatusAccepted {
		t.Fatal(st)
	}
	if _, st, why := m.PostGibb("ann", "banana up"); st != StatusRateLimited || why == "" {
		t.Fatalf("second gibb in a tick = %v, %q; want rate_limited", st, why)
	}
	if _, st, _ := m.PostGibb("bob", "banana up"); st != StatusAccepted {
		t.Fatalf("another person's gibb = %v", st)
	}
	if r := m.Apply(Order{Trader: "alice", Kind: KindGibb, Text: "banana up"}); r.Status != StatusAccepted || r.Gibb == nil || r.Gibb.Author != "alice" {
		t.Fatalf("trader gibb = %+v", r)
	}
	r := m.Apply(Order{Trader: "alice", Kind: KindGibb, Text: "banana up"})
	if r.Status != StatusRateLimited || r.Gibb != nil {
		t.Fatalf("trader's second gibb = %v; want rate_limited", r.Status)
	}
	if m.hype != 3*10_000 {
		t.Fatalf("hype = %s; want 0.030000 from three gibbs", m.hype)
	}
	m.Tick()
	if _, st, _ := m.PostGibb("ann", "banana up"); st != StatusAccepted {
		t.Fatalf("gibb in the next tick = %v", st)
	}
	if r := m.Apply(Order{Trader: "alice", Kind: KindGibb, Text: "banana up"}); r.Status != StatusAccepted {
		t.Fatalf("trader gibb in the next tick = %v", r.Status)
	}
	// 10 tokens − 2 gibb orders, refilled by 5 up to 10 at the tick, − 1.
	if a, _ := m.Account("alice"); a.Bucket != 9 {
		t.Fatalf("bucket = %d; want each gibb order to spend a token", a.Bucket)
	}
}

func TestPersonsCannotGibbUnlessTheMarketIsOpen(t *testing.T) {
	m := NewMarket(Config{})
	if _, st, _ := m.PostGibb("ann", "banana"); st != StatusMarketClosed {
		t.Errorf("pending: %v", st)
	}
	_ = m.SetPhase(PhaseOpen)
	_ = m.SetPhase(PhasePaused)
	if _, st, _ := m.PostGibb("ann", "banana"); st != StatusMarketPaused {
		t.Errorf("paused: %v", st)
	}
	if _, st, _ := m.PostGibb("", "banana"); st != StatusMarketPaused {
		t.Errorf("paused without author: %v", st)
	}
}

func TestGibbScoringDoesNotAllocate(t *testing.T) {
	g := NewGibbScorer(Config{})
	text := "I love #banana #mktd6 up up, great BANANA crop 🍌"
	if n := testing.AllocsPerRun(100, func() { g.Points(text) }); n != 0 {
		t.Errorf("Points allocated %v times", n)
	}
}
