package rules

import (
	"math"
	"math/bits"
)

// Plantation numbers of the rules.
const (
	MaxReturn          = 1.15  // r never exceeds +15 %
	returnBase         = 0.035 // μ = 0.035 + exp(−1 − T/1000)
	returnSpread       = 0.01  // standard deviation of ln r
	harvestMsPerCoin   = 10    // a harvest comes 10 ms × T after the investment …
	MaxHarvestDelayMs  = 60_000
	microsPerHarvestMs = int64(MicrosPerCoin) / harvestMsPerCoin
)

// PlantationReturn is r = min(1.15, exp(N(μ, 0.01))), μ = 0.035 + exp(−1 − T/1000) with T
// in coins, the draw a pure function of (seed, trader, order id).
func PlantationReturn(seed uint64, trader, orderID string, invested Micro) float64 {
	t := float64(invested) / float64(MicrosPerCoin)
	mu := returnBase + expDet(-1-t/1000)
	return min(MaxReturn, expDet(mu+mul(returnSpread, investDraw(seed, trader, orderID))))
}

// PlantationCredit is floor(r × x) in micro-coins, exactly: r is taken as the exact binary
// value of the float64, so no rounding happens before the floor.
func PlantationCredit(r float64, x Micro) Micro {
	if x <= 0 || !(r > 0) {
		return 0
	}
	frac, exp := math.Frexp(r) // r = frac × 2^exp, frac in [0.5, 1)
	mant := uint64(math.Ldexp(frac, 53))
	hi, lo := bits.Mul64(mant, uint64(x))
	shift := 53 - exp // r ≤ 1.15 gives exp ≤ 1, so shift ≥ 52
	if shift >= 128 {
		return 0
	}
	var q uint64
	switch {
	case shift >= 64:
		q = hi >> (shift - 64)
	default:
		if hi>>shift != 0 {
			return math.MaxInt64
		}
		q = lo>>shift | hi<<(64-shift)
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return Micro(q)
}

// HarvestDelayMs is min(10 ms × T, 60 s) in whole milliseconds (rounded down), T the
// trader's total invested including this investment.
func HarvestDelayMs(invested Micro) int64 {
	return min(int64(invested)/microsPerHarvestMs, MaxHarvestDelayMs)
}

// plant fixes the credit and due time of an accepted investment.
func (m *Market) plant(o Order, invested Micro) *Plantation {
	r := PlantationReturn(m.cfg.Seed, o.Trader, o.ID, invested)
	return &Plantation{
		Trader:  o.Trader,
		OrderID: o.ID,
		Coins:   o.Coins,
		Credit:  PlantationCredit(r, o.Coins),
		DueMs:   m.timeMs + HarvestDelayMs(invested),
	}
}

const (
	reasonNotInFlight   = "the trader has no plantation in flight to harvest"
	reasonHarvestClosed = "the market is closed: plantations are no longer harvested"
)

// Harvest credits a due plantation and returns the harvest result: coins += credit,
// in flight −= 1, then the bailout check like any order. Coins stop at MaxCoins. A closed
// market, an unknown trader or a trader with nothing in flight changes nothing and gets
// market_closed or invalid.
func (m *Market) Harvest(p Plantation) Result {
	res := Result{Trader: p.Trader, ID: p.OrderID, Kind: KindHarvest, Tick: m.last.Seq, Price: m.last.Price}
	a, ok := m.accounts[p.Trader]
	switch {
	case !ok:
		res.Status, res.Reason = StatusInvalid, reasonUnknownTrader
		return res
	case m.phase == PhaseClosed:
		res.Status, res.Reason = StatusMarketClosed, reasonHarvestClosed
	case a.InFlight <= 0:
		res.Status, res.Reason = StatusInvalid, reasonNotInFlight
	}
	if res.Status != 0 {
		res.Account, res.Score = *a, a.Score(m.cfg.BailoutPenalty)
		return res
	}
	t := *a
	t.Coins = min(addSat(t.Coins, p.Credit), MaxCoins)
	t.InFlight--
	m.bailout(&t)
	m.commit(a, &t, &res)
	res.Status = StatusHarvest
	res.Credit = p.Credit
	return res
}
