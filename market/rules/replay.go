package rules

// ReplayTick publishes a recorded tick instead of computing the next one, so that orders
// apply at the prices a market really had: the backtester plays a strategy against a
// recorded game this way. Everything else is as with Tick (rate-limit refill, the phase);
// the price process itself is left untouched, so gibbs applied meanwhile move no price.
// The tick's Seq, Price, Forecast, EMA, Hype and Burst are taken as given; its Phase and
// TimeMs are the market's. When the market is not open it behaves as Tick.
func (m *Market) ReplayTick(t Tick) Tick {
	if m.phase != PhaseOpen {
		return m.Tick()
	}
	t.Phase, t.TimeMs = PhaseOpen, m.timeMs
	m.last = t
	clear(m.persons)
	return m.last
}
