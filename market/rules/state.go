package rules

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// State is everything of a Market except the accounts, as plain data: the engine stores it
// in Redis after every batch and Restore continues from it exactly. It round-trips through
// encoding/json without loss.
type State struct {
	Phase  Phase `json:"phase"`
	TimeMs int64 `json:"timeMs"`

	// The latest published tick.
	Tick     int64 `json:"tick"`
	Price    Micro `json:"price"`
	Forecast Micro `json:"forecast"`
	EMA      Micro `json:"ema"`
	Hype     Micro `json:"hype"`
	Burst    int   `json:"burst"`
	// TickTimeMs is the market time the latest tick was published at.
	TickTimeMs int64 `json:"tickTimeMs"`

	// The price process, unrounded: base(n) in coins, the EMA in micro-coins.
	Base     ExactFloat `json:"base"`
	EMAExact ExactFloat `json:"emaExact"`

	// Hype H, the hype removed by bursts B (micro-coins), and the running burst: V, steps
	// done, tick of the next step.
	HypeTotal      Micro                `json:"hypeTotal"`
	HypeRemoved    ExactFloat           `json:"hypeRemoved"`
	BurstRunning   bool                 `json:"burstRunning"`
	BurstStart     Micro                `json:"burstStart"`
	BurstSteps     int                  `json:"burstSteps"`
	BurstNextTick  int64                `json:"burstNextTick"`
	GibbSeq        int64                `json:"gibbSeq"`
	EventSeq       int64                `json:"eventSeq"`
	PersonsGibbing map[string]GibbLimit `json:"personsGibbing,omitempty"`
}

// ExactFloat is a float64 that goes through JSON and text as the shortest decimal string
// that reads back to the same bits ("1.0001", "0.9999999999999999").
type ExactFloat float64

// MarshalText writes f as the shortest string that parses back to the same float64.
func (f ExactFloat) MarshalText() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return nil, fmt.Errorf("%v is not a finite number", float64(f))
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalText reads a finite number written by MarshalText.
func (f *ExactFloat) UnmarshalText(b []byte) error {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a finite number", b)
	}
	*f = ExactFloat(v)
	return nil
}

// State returns the market's state (without accounts).
func (m *Market) State() State {
	st := State{
		Phase:         m.phase,
		TimeMs:        m.timeMs,
		Tick:          m.last.Seq,
		Price:         m.last.Price,
		Forecast:      m.last.Forecast,
		EMA:           m.last.EMA,
		Hype:          m.last.Hype,
		Burst:         m.last.Burst,
		TickTimeMs:    m.last.TimeMs,
		Base:          ExactFloat(m.base),
		EMAExact:      ExactFloat(m.ema),
		HypeTotal:     m.hype,
		HypeRemoved:   ExactFloat(m.removed),
		BurstRunning:  m.burst.active,
		BurstStart:    m.burst.start,
		BurstSteps:    m.burst.steps,
		BurstNextTick: m.burst.next,
		GibbSeq:       m.gibbSeq,
		EventSeq:      m.eventSeq,
	}
	if len(m.persons) > 0 {
		st.PersonsGibbing = maps.Clone(m.persons)
	}
	return st
}

// Restore continues a market from a State and its accounts. It refuses a config that does
// not pass Validate and a state that no market could have reached.
func Restore(cfg Config, st State, accounts map[string]Account) (*Market, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("restore market: %w", err)
	}
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("restore market: %w", err)
	}
	m := newMarket(cfg.WithDefaults())
	m.phase = st.Phase
	m.timeMs = st.TimeMs
	m.last = Tick{
		Seq: st.Tick, Price: st.Price, Forecast: st.Forecast, EMA: st.EMA, Hype: st.Hype,
		Burst: st.Burst, Phase: PhasePending, TimeMs: st.TickTimeMs,
	}
	if st.Tick > 0 {
		m.last.Phase = PhaseOpen // ticks are only published while open
	}
	m.base = float64(st.Base)
	m.ema = float64(st.EMAExact)
	m.hype = st.HypeTotal
	m.removed = float64(st.HypeRemoved)
	m.burst = burst{active: st.BurstRunning, start: st.BurstStart, steps: st.BurstSteps, next: st.BurstNextTick}
	m.gibbSeq = st.GibbSeq
	m.eventSeq = st.EventSeq
	maps.Copy(m.persons, st.PersonsGibbing)
	for name, a := range accounts {
		if name == "" {
			return nil, fmt.Errorf("restore market: %w", errNoTraderName)
		}
		m.accounts[name] = &a
		m.names = append(m.names, name)
	}
	slices.Sort(m.names)
	return m, nil
}

func (st State) check() error {
	var errs []error
	if int(st.Phase) >= len(phaseNames) {
		errs = append(errs, fmt.Errorf("unknown phase %d", st.Phase))
	}
	if st.Tick < 0 || st.TimeMs < 0 || st.TickTimeMs < 0 || st.TickTimeMs > st.TimeMs || st.GibbSeq < 0 || st.EventSeq < 0 {
		errs = append(errs, errors.New("tick, time and sequence numbers cannot be negative"))
	}
	if st.Price < MinPrice || st.Price > MaxPrice {
		errs = append(errs, fmt.Errorf("price %s is outside %s–%s", st.Price, MinPrice, MaxPrice))
	}
	if st.BurstSteps < 0 || st.BurstSteps >= BurstSteps || st.Burst < 0 || st.Burst > BurstSteps {
		errs = append(errs, fmt.Errorf("burst step %d (running %d) is outside 0–%d", st.Burst, st.BurstSteps, BurstSteps))
	}
	if !(st.Base >= 0) || !(st.EMAExact >= 0) {
		errs = append(errs, errors.New("base price and EMA must be non-negative numbers"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid market state: %w", err)
	}
	return nil
}
