package rules

import "time"

// Config holds every number of the rules that a market's organiser may change. The zero
// value of each field means the default of the rules (shown in brackets), so Config{} plays
// the standard game.
type Config struct {
	Seed uint64 `json:"seed"`

	TickInterval time.Duration `json:"tickInterval"` // [1s]

	PriceInitial    float64 `json:"priceInitial"`    // [1]
	PriceDrift      float64 `json:"priceDrift"`      // [0.0001], mean of ln m(n)
	PriceVolatility float64 `json:"priceVolatility"` // [0.01], standard deviation of ln m(n)

	Hashtag        string   `json:"hashtag"`        // [mktd]
	Positive       []string `json:"positive"`       // [the list in docs/rules.md]
	Negative       []string `json:"negative"`       // [the list in docs/rules.md]
	BurstStepTicks int      `json:"burstStepTicks"` // [5]

	InitialCoins     Micro `json:"initialCoins"`     // [10 coins]
	InitialShares    int64 `json:"initialShares"`    // [5]
	BailoutPenalty   int64 `json:"bailoutPenalty"`   // [20]
	BailoutCoins     Micro `json:"bailoutCoins"`     // [10 coins]
	BailoutShares    int64 `json:"bailoutShares"`    // [5]
	MaxOrdersPerTick int   `json:"maxOrdersPerTick"` // [5]; the bucket holds twice this
	MaxGibbsPerTick  int   `json:"maxGibbsPerTick"`  // [1]
}
