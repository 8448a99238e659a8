package rules

// Market is the whole state of one market and the rules that change it. The engine owns one
// and calls it from a single goroutine.
//
// The stubs below fix the API that the engine, the trader runtime, the backtester and the
// operator are written against; each is implemented in the file of its rule.
type Market struct {
	cfg Config
}

// State is everything of a Market except the accounts, as plain data: the engine stores it
// in Redis after every batch and Restore continues from it exactly. It round-trips through
// encoding/json without loss.
type State struct {
	// Filled in by the implementation: phase, tick, market time, price process (base as
	// exact float64 bits, EMA, last price), hype H and removed B, burst (start value,
	// steps done, next step tick), gibb and event sequence numbers, persons' gibb limits.
}

// NewMarket returns a Pending market playing cfg (zero fields take the defaults).
func NewMarket(cfg Config) *Market { panic("not implemented") }

// Restore continues a market from a State and its accounts.
func Restore(cfg Config, st State, accounts map[string]Account) (*Market, error) {
	panic("not implemented")
}

// Config returns the market's configuration with defaults filled in.
func (m *Market) Config() Config { return m.cfg }

// State returns the market's state (without accounts).
func (m *Market) State() State { panic("not implemented") }

// Phase returns the market's phase.
func (m *Market) Phase() Phase { panic("not implemented") }

// SetPhase moves the market to p: Pending→Open, Open⇄Paused, any→Closed. Opening fills
// every bucket. It returns an error for a move the rules do not allow (e.g. out of Closed).
func (m *Market) SetPhase(p Phase) error { panic("not implemented") }

// SetTime sets the market time in milliseconds (time spent open; paused time does not
// count). The engine advances it; harvests fall due by it. It never goes back.
func (m *Market) SetTime(ms int64) { panic("not implemented") }

// TimeMs returns the market time in milliseconds.
func (m *Market) TimeMs() int64 { panic("not implemented") }

// Tick advances the market by one tick when it is open (price, forecast, burst step,
// rate-limit refill) and returns what to publish. When not open it returns the last tick
// unchanged with the current phase.
func (m *Market) Tick() Tick { panic("not implemented") }

// LastTick returns the latest published tick (Seq 0 before the first).
func (m *Market) LastTick() Tick { panic("not implemented") }

// AddTrader registers a trader with the initial account; it reports false when the trader
// was already there (its account is kept).
func (m *Market) AddTrader(name string) bool { panic("not implemented") }

// Account returns a trader's account.
func (m *Market) Account(name string) (Account, bool) { panic("not implemented") }

// Accounts calls fn for every trader, in name order.
func (m *Market) Accounts(fn func(trader string, a Account)) { panic("not implemented") }

// Apply applies one order of a registered trader and returns its result. It never panics
// and never allocates for buy, sell and feed. An unknown trader's order is invalid.
func (m *Market) Apply(o Order) Result { panic("not implemented") }

// PostGibb applies a person's gibb (from the dashboard or the CLI). A refused gibb (too
// long, empty, over the author's limit) returns its status and reason and changes nothing.
func (m *Market) PostGibb(author, text string) (GibbEffect, Status, string) {
	panic("not implemented")
}

// Harvest credits a due plantation and returns the harvest result.
func (m *Market) Harvest(p Plantation) Result { panic("not implemented") }

// Standings returns every trader ranked; team names the team of a trader (may be nil).
func (m *Market) Standings(team func(trader string) string) []Standing { panic("not implemented") }

// Rank sorts standings by the rules' order and numbers them 1, 2, 3, …
func Rank(s []Standing) { panic("not implemented") }

// Score is monkeys fed minus the bailout penalty.
func (a Account) Score(bailoutPenalty int64) int64 {
	return a.Fed - bailoutPenalty*a.Bailouts
}
