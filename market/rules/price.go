package rules

import "math"

// Bounds of the published price. The floor is the rules' 0.01; the ceiling (a million coins
// a share) only keeps n × P inside an int64 when an organiser sets an extreme volatility.
const (
	MinPrice Micro = 10_000
	MaxPrice Micro = 1_000_000 * MicrosPerCoin
)

// maxBase keeps base(n) finite whatever the draws; it is far above MaxPrice.
const maxBase = 1e15

// Tick advances the market by one tick when it is open and returns what to publish:
//
//	base(n) = base(n−1) × m(n), ln m(n) = drift + volatility × z(n), z(n) from (seed, n);
//	a running burst applies its step if one falls due at n;
//	P(n) = max(0.01, base(n) + h(n)), h = H − B, rounded half-to-even to 6 decimals;
//	EMA(n) = 0.9 × EMA(n−1) + 0.1 × P(n), EMA(1) = P(1); F(n) = EMA(n) / P(n).
//
// When the market is not open it returns the last tick unchanged with the current phase.
func (m *Market) Tick() Tick {
	if m.phase != PhaseOpen {
		t := m.last
		t.Phase = m.phase
		return t
	}
	n := m.last.Seq + 1
	lnM := m.cfg.PriceDrift + mul(m.cfg.PriceVolatility, priceDraw(m.cfg.Seed, n))
	m.base = min(mul(m.base, expDet(lnM)), maxBase)
	step := m.stepBurst(n)

	h := m.hypeInPrice()
	p := publishPrice(m.base, h)
	if n == 1 {
		m.ema = float64(p)
	} else {
		m.ema = mul(0.9, m.ema) + mul(0.1, float64(p))
	}
	m.last = Tick{
		Seq:      n,
		Price:    p,
		Forecast: Micro(math.RoundToEven(mul(m.ema/float64(p), 1e6))),
		EMA:      Micro(math.RoundToEven(m.ema)),
		Hype:     Micro(math.RoundToEven(h)),
		Burst:    step,
		Phase:    PhaseOpen,
		TimeMs:   m.timeMs,
	}
	// A person's gibb limit only concerns the tick it was counted in.
	clear(m.persons)
	return m.last
}

// LastTick returns the latest published tick (Seq 0 before the first, with the initial
// price and a forecast of 1).
func (m *Market) LastTick() Tick { return m.last }

// hypeInPrice is h = H − B in micro-coins.
func (m *Market) hypeInPrice() float64 { return float64(m.hype) - m.removed }

// publishPrice is max(0.01, base + h) in micro-coins, rounded half-to-even: base is in coins,
// h in micro-coins; the sum is taken as base × 10⁶ + h.
func publishPrice(base, h float64) Micro {
	x := math.RoundToEven(mul(base, 1e6) + h)
	switch {
	case !(x >= float64(MinPrice)): // also NaN
		return MinPrice
	case x > float64(MaxPrice):
		return MaxPrice
	}
	return Micro(x)
}
