// Package rules is the banana market of docs/rules.md as pure, deterministic Go: money,
// accounts, orders, bailouts, the price process, gibbs and hype, bursts, plantations,
// rate limits, phases and ranking. It does no I/O, reads no clock and has no globals: the
// same Config and the same inputs give the same outputs, byte for byte.
//
// One Market value is owned by one goroutine (the engine's single writer); it is not safe
// for concurrent use and needs no locks.
package rules

// Micro is an amount of coins, or a price in coins per share, in millionths of a coin.
type Micro int64

// MicrosPerCoin is the number of micro-coins in one coin.
const MicrosPerCoin Micro = 1_000_000

// Phase is the state of a market's clock.
type Phase uint8

const (
	PhasePending Phase = iota
	PhaseOpen
	PhasePaused
	PhaseClosed
)

// Kind is what an order asks for. KindHarvest only appears on results.
type Kind uint8

const (
	KindBuy Kind = iota + 1
	KindSell
	KindFeed
	KindInvest
	KindGibb
	KindHarvest
)

// Status is the outcome of an order, or StatusHarvest for the credit of a plantation.
type Status uint8

const (
	StatusAccepted Status = iota + 1
	StatusInsufficientCoins
	StatusInsufficientShares
	StatusInvalid
	StatusRateLimited
	StatusMarketClosed
	StatusMarketPaused
	StatusHarvest
)

// Account is what a trader holds.
type Account struct {
	Coins    Micro `json:"coins"`
	Shares   int64 `json:"shares"`
	Fed      int64 `json:"fed"`
	Bailouts int64 `json:"bailouts"`
	InFlight int64 `json:"inflight"`
	// Invested is T of the rules: the total this trader has invested so far.
	Invested Micro `json:"invested"`
	// ScoredAt is the market event sequence number at which the current score was
	// reached; the earlier, the better the rank among equal scores and net worths.
	ScoredAt int64 `json:"scoredAt"`
	// Accepted and Rejected count this trader's orders by outcome (harvests excluded).
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`

	// Rate limiting, kept with the account so that a restarted engine limits exactly as
	// before: Bucket tokens as of tick BucketTick (refilled lazily), and the number of
	// gibbs posted during tick GibbTick.
	Bucket     int64 `json:"bucket"`
	BucketTick int64 `json:"bucketTick"`
	GibbTick   int64 `json:"gibbTick"`
	GibbCount  int64 `json:"gibbCount"`
}

// Order is one order of one trader, already decoded from the wire. Invalid carries the
// decoder's reason when the order could not be understood; the market then answers
// StatusInvalid with that reason (after the phase and rate-limit checks).
type Order struct {
	Trader  string
	ID      string
	Kind    Kind
	Qty     int64 // buy, sell, feed
	Coins   Micro // invest
	Text    string
	Invalid string
}

// Plantation is an accepted investment waiting for its harvest. Credit (r × x, rounded
// down to the micro-coin) is fixed when the investment is accepted; DueMs is in market
// time (milliseconds the market has been open; paused time does not count).
type Plantation struct {
	Trader  string `json:"trader"`
	OrderID string `json:"order"`
	Coins   Micro  `json:"coins"`
	Credit  Micro  `json:"credit"`
	DueMs   int64  `json:"due"`
}

// GibbEffect is what an applied gibb did to the market.
type GibbEffect struct {
	Seq    int64  // gibb sequence number, from 1
	Author string // trader name, or a person's name
	Text   string
	Points int64
	Hype   Micro // H − B after the gibb, i.e. the hype in the price
	Tick   int64
	Burst  bool // this gibb started a burst
}

// Result answers one order, or reports a harvest.
type Result struct {
	Trader  string
	ID      string
	Kind    Kind
	Status  Status
	Reason  string
	Tick    int64
	Price   Micro
	Account Account
	Score   int64
	// Credit is the amount credited by a harvest.
	Credit Micro
	// Plantation is set when an invest order was accepted: the engine stores it and calls
	// Market.Harvest when it is due.
	Plantation *Plantation
	// Gibb is set when a gibb order was accepted.
	Gibb *GibbEffect
}

// Tick is what the market publishes once per tick.
type Tick struct {
	Seq      int64
	Price    Micro
	Forecast Micro // F(n) with 6 decimals, as a Micro (1.000000 = 1_000_000)
	EMA      Micro
	Hype     Micro // h = H − B
	Burst    int   // 0, or the burst step (1–10) applied at this tick
	Phase    Phase
	TimeMs   int64 // market time at this tick
}

// Standing is one line of a ranking.
type Standing struct {
	Trader   string
	Team     string
	Score    int64
	NetWorth Micro
	ScoredAt int64
	Rank     int
}
