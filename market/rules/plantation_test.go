package rules

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestInvestPlantsAndHarvestCreditsRTimesX(t *testing.T) {
	m := openMarket(t, Config{Seed: 9}, "alice")
	m.SetTime(5000)
	r := m.Apply(Order{Trader: "alice", ID: "o1", Kind: KindInvest, Coins: Coins(4)})
	p := r.Plantation
	if r.Status != StatusAccepted || p == nil || r.Account.Coins != Coins(6) || r.Account.InFlight != 1 || r.Account.Invested != Coins(4) {
		t.Fatalf("invest 4 = %+v", r)
	}
	rate := PlantationReturn(9, "alice", "o1", Coins(4))
	if p.Credit != PlantationCredit(rate, Coins(4)) || p.Coins != Coins(4) || p.Trader != "alice" || p.OrderID != "o1" {
		t.Fatalf("plantation = %+v; want credit floor(%v × 4)", p, rate)
	}
	if p.DueMs != 5000+40 {
		t.Fatalf("due at %d; want 10 ms × 4 coins after 5000", p.DueMs)
	}
	h := m.Harvest(*p)
	if h.Status != StatusHarvest || h.Kind != KindHarvest || h.Credit != p.Credit || h.Account.Coins != Coins(6)+p.Credit || h.Account.InFlight != 0 {
		t.Fatalf("harvest = %+v", h)
	}
	if h.Account.Accepted != 1 {
		t.Fatalf("a harvest counted as an order: %+v", h.Account)
	}
	if again := m.Harvest(*p); again.Status != StatusInvalid || again.Account.Coins != h.Account.Coins {
		t.Fatalf("harvest with nothing in flight = %+v", again)
	}
}

func TestPlantationReturnFollowsTheTotalInvested(t *testing.T) {
	mean := func(total Micro) float64 {
		var sum float64
		for i := 0; i < 4000; i++ {
			sum += math.Log(PlantationReturn(1, "alice", string(rune('a'+i%26))+string(rune(i)), total))
		}
		return sum / 4000
	}
	// μ = 0.035 + exp(−1 − T/1000): about 0.403 at first, capped by r ≤ 1.15 (ln 0.1398).
	if got := mean(Coins(1)); math.Abs(got-math.Log(1.15)) > 1e-9 {
		t.Errorf("mean ln r at T = 1 coin = %v; want the cap ln 1.15", got)
	}
	if got, want := mean(Coins(5000)), 0.035+math.Exp(-6); math.Abs(got-want) > 0.001 {
		t.Errorf("mean ln r at T = 5000 coins = %v; want μ = %v", got, want)
	}
	if r := PlantationReturn(1, "alice", "o1", Coins(2000)); r > MaxReturn || r < 1 {
		t.Errorf("r at T = 2000 = %v", r)
	}
}

func TestPlantationCreditIsRoundedDownExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 20_000; i++ {
		r := 0.9 + rng.Float64()*0.25
		x := Micro(rng.Int64N(int64(MaxCoins)))
		if i%2 == 0 {
			x = Micro(rng.Int64N(int64(Coins(1000))) + 1)
		}
		want, _ := new(big.Float).SetPrec(256).Mul(big.NewFloat(r), new(big.Float).SetInt64(int64(x))).Int64()
		if got := PlantationCredit(r, x); int64(got) != want {
			t.Fatalf("PlantationCredit(%v, %d) = %d; want %d", r, x, got, want)
		}
	}
	if PlantationCredit(1.15, 1) != 1 || PlantationCredit(1.15, 10) != 11 || PlantationCredit(0.5, 3) != 1 {
		t.Error("small credits are not rounded down")
	}
}

func TestHarvestComesAtMostAMinuteLater(t *testing.T) {
	for total, want := range map[Micro]int64{Coins(1): 10, 1_500_000: 15, 99_999: 0, Coins(6000): 60_000, Coins(1e6): 60_000} {
		if got := HarvestDelayMs(total); got != want {
			t.Errorf("HarvestDelayMs(%s) = %d; want %d", total, got, want)
		}
	}
}

func TestInvestWithTooFewCoinsIsRejected(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	r := m.Apply(Order{Trader: "alice", Kind: KindInvest, Coins: Coins(11)})
	if r.Status != StatusInsufficientCoins || r.Plantation != nil || r.Account.Invested != 0 || r.Account.InFlight != 0 {
		t.Fatalf("invest 11 of 10 = %+v", r)
	}
	if r.Reason != "investing 11.000000 coins needs 11.000000 coins; you have 10.000000" {
		t.Fatalf("reason = %q", r.Reason)
	}
}

func TestHarvestCanBailOut(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	setAccount(m, "alice", Account{Coins: 0, Shares: 0, InFlight: 1, Invested: Coins(1)})
	h := m.Harvest(Plantation{Trader: "alice", OrderID: "o1", Coins: Coins(1), Credit: 1_100_000})
	if h.Status != StatusHarvest || h.Account.Bailouts != 1 || h.Account.Coins != Coins(10)+1_100_000 || h.Account.Shares != 5 {
		t.Fatalf("harvest of 1.1 coins with nothing else = %+v; want a bailout", h.Account)
	}
	if h.Score != -20 || h.Account.ScoredAt == 0 {
		t.Fatalf("score %d at %d", h.Score, h.Account.ScoredAt)
	}
}

func TestNoHarvestAfterTheMarketCloses(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	r := m.Apply(Order{Trader: "alice", ID: "o1", Kind: KindInvest, Coins: Coins(1)})
	_ = m.SetPhase(PhaseClosed)
	if h := m.Harvest(*r.Plantation); h.Status != StatusMarketClosed || h.Account.Coins != Coins(9) {
		t.Fatalf("harvest in a closed market = %+v", h)
	}
	if h := m.Harvest(Plantation{Trader: "nobody"}); h.Status != StatusInvalid {
		t.Fatalf("harvest of an unknown trader = %v", h.Status)
	}
}
