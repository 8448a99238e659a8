package rules

import (
	"math"
	"testing"
)

func TestFirstTickStartsTheEMAAtThePrice(t *testing.T) {
	m := openMarket(t, Config{Seed: 3})
	tk := m.Tick()
	if tk.Seq != 1 || tk.EMA != tk.Price || tk.Forecast != MicrosPerCoin || tk.Phase != PhaseOpen {
		t.Fatalf("tick 1 = %+v; want EMA = P and F = 1.000000", tk)
	}
}

func TestPriceFollowsTheBaseProcessOfTheSeed(t *testing.T) {
	m := openMarket(t, Config{Seed: 11})
	base, ema := 1.0, 0.0
	for n := int64(1); n <= 500; n++ {
		tk := m.Tick()
		base *= math.Exp(0.0001 + 0.01*priceDraw(11, n))
		want := Micro(math.RoundToEven(base * 1e6))
		if d := tk.Price - want; d < -1 || d > 1 {
			t.Fatalf("tick %d: P = %s; want about %s", n, tk.Price, want)
		}
		if n == 1 {
			ema = float64(tk.Price)
		} else {
			ema = 0.9*ema + 0.1*float64(tk.Price)
		}
		if d := tk.EMA - Micro(math.RoundToEven(ema)); d < -1 || d > 1 {
			t.Fatalf("tick %d: EMA = %s; want the EMA of the published prices, %v", n, tk.EMA, ema/1e6)
		}
		if f := Micro(math.RoundToEven(ema / float64(tk.Price) * 1e6)); tk.Forecast-f < -1 || tk.Forecast-f > 1 {
			t.Fatalf("tick %d: F = %s; want EMA/P = %s", n, tk.Forecast, f)
		}
	}
}

func TestPriceHasTheConfiguredDriftAndVolatility(t *testing.T) {
	m := openMarket(t, Config{Seed: 5, PriceVolatility: 0.001, PriceDrift: 0.00005})
	const n = 20_000
	prev := m.base
	var sum, sq float64
	for i := 0; i < n; i++ {
		m.Tick()
		l := math.Log(m.base / prev)
		prev = m.base
		sum += l
		sq += l * l
	}
	mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	if math.Abs(mean-0.00005) > 0.00003 || math.Abs(sd-0.001) > 0.00003 {
		t.Errorf("ln m(n) has mean %v and sd %v; want 0.00005 and 0.001", mean, sd)
	}
}

func TestTradingDoesNotMoveThePrice(t *testing.T) {
	quiet := openMarket(t, Config{Seed: 8}, "alice")
	busy := openMarket(t, Config{Seed: 8}, "alice")
	for n := 0; n < 50; n++ {
		busy.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 1})
		busy.Apply(Order{Trader: "alice", Kind: KindSell, Qty: 2})
		busy.Apply(Order{Trader: "alice", Kind: KindFeed, Qty: 1})
		if a, b := quiet.Tick(), busy.Tick(); a != b {
			t.Fatalf("tick %d differs with trading: %+v vs %+v", n+1, a, b)
		}
	}
}

func TestPriceNeverFallsBelowOneCent(t *testing.T) {
	m := openMarket(t, Config{Seed: 1, PriceInitial: 0.011, PriceDrift: -1})
	for n := 0; n < 5; n++ {
		if p := m.Tick().Price; p != MinPrice {
			t.Fatalf("P = %s; want the floor 0.010000", p)
		}
	}
	m.hype = -Coins(5)
	if p := m.Tick().Price; p != MinPrice {
		t.Fatalf("P with negative hype = %s; want 0.010000", p)
	}
}

func TestPublishedPriceIsRoundedHalfToEven(t *testing.T) {
	for _, tc := range []struct {
		base, h float64
		want    Micro
	}{
		{1, 0.5, 1_000_000}, {1, 1.5, 1_000_002}, {1, 2.5, 1_000_002}, {1, -0.5, 1_000_000}, {1.25, 10_000, 1_260_000},
	} {
		if got := publishPrice(tc.base, tc.h); got != tc.want {
			t.Errorf("publishPrice(%v, %v) = %d; want %d", tc.base, tc.h, got, tc.want)
		}
	}
}

func TestNoTicksUnlessOpen(t *testing.T) {
	m := NewMarket(Config{})
	if tk := m.Tick(); tk.Seq != 0 || tk.Phase != PhasePending || tk.Price != Coins(1) {
		t.Fatalf("pending Tick() = %+v; want tick 0 at the initial price", tk)
	}
	_ = m.SetPhase(PhaseOpen)
	m.Tick()
	_ = m.SetPhase(PhasePaused)
	if tk := m.Tick(); tk.Seq != 1 || tk.Phase != PhasePaused {
		t.Fatalf("paused Tick() = %+v; want tick 1 again, paused", tk)
	}
	_ = m.SetPhase(PhaseClosed)
	if tk := m.Tick(); tk.Seq != 1 || tk.Phase != PhaseClosed {
		t.Fatalf("closed Tick() = %+v; want tick 1 again, closed", tk)
	}
}

func TestTickCarriesMarketTime(t *testing.T) {
	m := openMarket(t, Config{})
	m.SetTime(1500)
	m.SetTime(900) // never goes back
	if tk := m.Tick(); tk.TimeMs != 1500 || m.TimeMs() != 1500 {
		t.Fatalf("tick time = %d, market time %d; want 1500", tk.TimeMs, m.TimeMs())
	}
}
