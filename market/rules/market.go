package rules

import (
	"errors"
	"fmt"
	"slices"
)

// Market is the whole state of one market and the rules that change it. The engine owns one
// and calls it from a single goroutine.
type Market struct {
	cfg    Config
	scorer *GibbScorer

	phase  Phase
	timeMs int64
	last   Tick

	// The price process: base(n) and the EMA in micro-coins, both unrounded.
	base float64
	ema  float64

	hype    Micro   // H, the sum of every gibb's points × 0.01 coins
	removed float64 // B in micro-coins, the hype removed by bursts
	burst   burst

	gibbSeq  int64
	eventSeq int64
	persons  map[string]GibbLimit

	accounts map[string]*Account
	names    []string // sorted

	bucketCap, bucketRate int64
	reasonRateLimited     string
	reasonGibbLimited     string
}

// NewMarket returns a Pending market playing cfg (zero fields take the defaults). cfg should
// have passed Validate; NewMarket itself never fails.
func NewMarket(cfg Config) *Market {
	m := newMarket(cfg.WithDefaults())
	m.base = m.cfg.PriceInitial
	p := publishPrice(m.base, 0)
	m.ema = float64(p)
	m.last = Tick{Price: p, Forecast: MicrosPerCoin, EMA: p, Phase: PhasePending}
	return m
}

func newMarket(cfg Config) *Market {
	m := &Market{
		cfg:        cfg,
		scorer:     NewGibbScorer(cfg),
		persons:    map[string]GibbLimit{},
		accounts:   map[string]*Account{},
		bucketRate: int64(cfg.MaxOrdersPerTick),
		bucketCap:  2 * int64(cfg.MaxOrdersPerTick),
	}
	m.reasonRateLimited = fmt.Sprintf("more than %d orders per tick: wait for the next tick (the allowance keeps at most %d unused orders)",
		m.bucketRate, m.bucketCap)
	m.reasonGibbLimited = fmt.Sprintf("more than %d gibbs per tick from this author: wait for the next tick", cfg.MaxGibbsPerTick)
	return m
}

// Config returns the market's configuration with defaults filled in.
func (m *Market) Config() Config { return m.cfg }

// Phase returns the market's phase.
func (m *Market) Phase() Phase { return m.phase }

// SetPhase moves the market to p: Pending→Open, Open⇄Paused, any→Closed. Opening fills
// every bucket. Moving to the phase the market is already in does nothing. It returns an
// error for a move the rules do not allow (e.g. out of Closed).
func (m *Market) SetPhase(p Phase) error {
	from := m.phase
	switch {
	case p == from:
		return nil
	case p == PhaseClosed,
		from == PhaseOpen && p == PhasePaused,
		from == PhasePaused && p == PhaseOpen:
	case from == PhasePending && p == PhaseOpen:
		for _, a := range m.accounts {
			a.Bucket, a.BucketTick = m.bucketCap, m.last.Seq
		}
	default:
		return fmt.Errorf("market cannot move from %s to %s; allowed: pending→open, open⇄paused, any→closed", from, p)
	}
	m.phase = p
	return nil
}

// SetTime sets the market time in milliseconds (time spent open; paused time does not
// count). The engine advances it; harvests fall due by it. It never goes back: an earlier
// time is ignored.
func (m *Market) SetTime(ms int64) {
	if ms > m.timeMs {
		m.timeMs = ms
	}
}

// TimeMs returns the market time in milliseconds.
func (m *Market) TimeMs() int64 { return m.timeMs }

// AddTrader registers a trader with the initial account; it reports false when the trader
// was already there (its account is kept) or the name is empty.
func (m *Market) AddTrader(name string) bool {
	if name == "" {
		return false
	}
	if _, ok := m.accounts[name]; ok {
		return false
	}
	m.accounts[name] = &Account{
		Coins:      m.cfg.InitialCoins,
		Shares:     m.cfg.InitialShares,
		Bucket:     m.bucketCap,
		BucketTick: m.last.Seq,
	}
	i, _ := slices.BinarySearch(m.names, name)
	m.names = slices.Insert(m.names, i, name)
	return true
}

// Account returns a trader's account.
func (m *Market) Account(name string) (Account, bool) {
	a, ok := m.accounts[name]
	if !ok {
		return Account{}, false
	}
	return *a, true
}

// Accounts calls fn for every trader, in name order.
func (m *Market) Accounts(fn func(trader string, a Account)) {
	for _, name := range m.names {
		fn(name, *m.accounts[name])
	}
}

// Score is monkeys fed minus the bailout penalty.
func (a Account) Score(bailoutPenalty int64) int64 {
	return a.Fed - bailoutPenalty*a.Bailouts
}

var errNoTraderName = errors.New("an account has an empty trader name")
