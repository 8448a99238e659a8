package rules

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"
)

// The defaults of the rules; a zero field of Config means the value here.
const (
	DefaultTickInterval     = time.Second
	DefaultPriceInitial     = 1.0
	DefaultPriceDrift       = 0.0001
	DefaultPriceVolatility  = 0.01
	DefaultHashtag          = "mktd"
	DefaultBurstStepTicks   = 5
	DefaultInitialCoins     = 10 * MicrosPerCoin
	DefaultInitialShares    = 5
	DefaultBailoutPenalty   = 20
	DefaultBailoutCoins     = 10 * MicrosPerCoin
	DefaultBailoutShares    = 5
	DefaultMaxOrdersPerTick = 5
	DefaultMaxGibbsPerTick  = 1
)

// Limits that keep every sum of the rules exact in an int64; no real game comes near them.
const (
	maxConfigCoins   = 1_000_000_000 * MicrosPerCoin
	maxConfigShares  = 1_000_000_000
	maxConfigPerTick = 1_000_000_000
	maxPriceInitial  = 1_000_000.0
	maxLnSpread      = 10.0 // |drift| and volatility of ln m(n)
)

// DefaultPositive returns the default positive words of a gibb.
func DefaultPositive() []string {
	return []string{"yes", "happy", "good", "great", "better", "best", "up", "safe", "sane", "sweet",
		"buy", "like", "love", "high", "nice", "certain", "sure", "solid", "thank", "thanks", "merci", "super"}
}

// DefaultNegative returns the default negative words of a gibb.
func DefaultNegative() []string {
	return []string{"no", "sad", "bad", "worse", "worst", "down", "dangerous", "danger", "insane", "sour",
		"sell", "dislike", "hate", "low", "bubble", "burst", "risk"}
}

// WithDefaults returns c with every zero field replaced by the default of the rules. An
// empty word list counts as zero and takes the default list. The word lists are copied.
func (c Config) WithDefaults() Config {
	c.TickInterval = cmp.Or(c.TickInterval, DefaultTickInterval)
	c.PriceInitial = cmp.Or(c.PriceInitial, DefaultPriceInitial)
	c.PriceDrift = cmp.Or(c.PriceDrift, DefaultPriceDrift)
	c.PriceVolatility = cmp.Or(c.PriceVolatility, DefaultPriceVolatility)
	c.Hashtag = cmp.Or(c.Hashtag, DefaultHashtag)
	if len(c.Positive) == 0 {
		c.Positive = DefaultPositive()
	} else {
		c.Positive = append([]string(nil), c.Positive...)
	}
	if len(c.Negative) == 0 {
		c.Negative = DefaultNegative()
	} else {
		c.Negative = append([]string(nil), c.Negative...)
	}
	c.BurstStepTicks = cmp.Or(c.BurstStepTicks, DefaultBurstStepTicks)
	c.InitialCoins = cmp.Or(c.InitialCoins, DefaultInitialCoins)
	c.InitialShares = cmp.Or(c.InitialShares, DefaultInitialShares)
	c.BailoutPenalty = cmp.Or(c.BailoutPenalty, DefaultBailoutPenalty)
	c.BailoutCoins = cmp.Or(c.BailoutCoins, DefaultBailoutCoins)
	c.BailoutShares = cmp.Or(c.BailoutShares, DefaultBailoutShares)
	c.MaxOrdersPerTick = cmp.Or(c.MaxOrdersPerTick, DefaultMaxOrdersPerTick)
	c.MaxGibbsPerTick = cmp.Or(c.MaxGibbsPerTick, DefaultMaxGibbsPerTick)
	return c
}

// Validate reports every field of c that the rules cannot play, one sentence each. Zero
// fields are valid: they mean the default.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

	if c.TickInterval < 0 {
		bad("tickInterval %s is negative; use a positive duration such as 1s", c.TickInterval)
	}
	if !finite(c.PriceInitial) || c.PriceInitial < 0 || c.PriceInitial > maxPriceInitial {
		bad("price.initial %v must be a positive number of coins, at most %v", c.PriceInitial, maxPriceInitial)
	}
	if !finite(c.PriceDrift) || math.Abs(c.PriceDrift) > maxLnSpread {
		bad("price.drift %v must be a number between -%v and %v", c.PriceDrift, maxLnSpread, maxLnSpread)
	}
	if !finite(c.PriceVolatility) || c.PriceVolatility < 0 || c.PriceVolatility > maxLnSpread {
		bad("price.volatility %v must be a number between 0 and %v", c.PriceVolatility, maxLnSpread)
	}
	if !isWord(c.Hashtag) && c.Hashtag != "" {
		bad("hype.hashtag %q must be lower-case letters a-z only (write \"mktd\", not \"#mktd\")", c.Hashtag)
	}
	hashtag := c.Hashtag
	if hashtag == "" {
		hashtag = DefaultHashtag
	}
	seen := make(map[string]string, len(c.Positive)+len(c.Negative))
	for _, list := range []struct {
		field string
		words []string
	}{{"hype.positive", c.Positive}, {"hype.negative", c.Negative}} {
		for _, w := range list.words {
			switch {
			case !isWord(w):
				bad("%s word %q must be lower-case letters a-z only; a gibb's words are compared after everything else is deleted", list.field, w)
			case seen[w] != "":
				bad("%s word %q is already in %s; a word scores once", list.field, w, seen[w])
			case w == hashtag:
				bad("%s word %q is the hashtag word; remove it from the list", list.field, w)
			default:
				seen[w] = list.field
			}
		}
	}
	if c.BurstStepTicks < 0 {
		bad("hype.burstStepTicks %d is negative; use a positive number of ticks such as 5", c.BurstStepTicks)
	}
	coins := func(field string, v Micro) {
		if v < 0 || v > maxConfigCoins {
			bad("%s %s must be between 0 and %s coins", field, v, maxConfigCoins)
		}
	}
	count := func(field string, v, max int64) {
		if v < 0 || v > max {
			bad("%s %d must be between 0 and %d", field, v, max)
		}
	}
	coins("rules.initialCoins", c.InitialCoins)
	count("rules.initialShares", c.InitialShares, maxConfigShares)
	count("rules.bailoutPenalty", c.BailoutPenalty, maxConfigShares)
	coins("rules.bailout.coins", c.BailoutCoins)
	count("rules.bailout.shares", c.BailoutShares, maxConfigShares)
	count("rules.maxOrdersPerTick", int64(c.MaxOrdersPerTick), maxConfigPerTick)
	count("rules.maxGibbsPerTick", int64(c.MaxGibbsPerTick), maxConfigPerTick)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid market rules: %w", err)
	}
	return nil
}

// isWord reports whether s is a non-empty run of the letters a-z.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
