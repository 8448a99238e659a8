package protocol

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"

	"github.com/monkonomy/monkonomy/market/rules"
)

// RulesConfig converts the settings of market m into the rules' Config, with the rules'
// defaults filled in. Without a seed, the seed is derived from the market's name, so the
// same market plays the same price path on every run.
func (s Settings) RulesConfig(m Market) (rules.Config, error) {
	cfg := rules.Config{
		TickInterval:     s.TickInterval.Duration,
		Hashtag:          s.Hype.Hashtag,
		Positive:         s.Hype.Positive,
		Negative:         s.Hype.Negative,
		BurstStepTicks:   s.Hype.BurstStepTicks,
		InitialShares:    s.Rules.InitialShares,
		BailoutPenalty:   s.Rules.BailoutPenalty,
		BailoutShares:    s.Rules.Bailout.Shares,
		MaxOrdersPerTick: s.Rules.MaxOrdersPerTick,
		MaxGibbsPerTick:  s.Rules.MaxGibbsPerTick,
	}
	if s.Seed != nil {
		cfg.Seed = *s.Seed
	} else {
		cfg.Seed = SeedOf(m)
	}
	if s.TickInterval.Duration < 0 {
		return cfg, fmt.Errorf("tickInterval %s is negative: use a positive duration such as \"1s\"", s.TickInterval)
	}
	if s.Duration.Duration < 0 {
		return cfg, fmt.Errorf("duration %s is negative: use a positive duration such as \"90m\", or leave it out", s.Duration)
	}
	floats := []struct {
		name, value string
		dst         *float64
	}{
		{"price.initial", s.Price.Initial, &cfg.PriceInitial},
		{"price.drift", s.Price.Drift, &cfg.PriceDrift},
		{"price.volatility", s.Price.Volatility, &cfg.PriceVolatility},
	}
	for _, f := range floats {
		if f.value == "" {
			continue
		}
		v, err := strconv.ParseFloat(f.value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return cfg, fmt.Errorf("%s %q is not a decimal number", f.name, f.value)
		}
		*f.dst = v
	}
	amounts := []struct {
		name, value string
		dst         *rules.Micro
	}{
		{"rules.initialCoins", s.Rules.InitialCoins, &cfg.InitialCoins},
		{"rules.bailout.coins", s.Rules.Bailout.Coins, &cfg.BailoutCoins},
	}
	for _, a := range amounts {
		if a.value == "" {
			continue
		}
		v, err := parseMicro(a.value)
		if err != nil {
			return cfg, fmt.Errorf("%s %q: %w", a.name, a.value, err)
		}
		if v < 0 {
			return cfg, fmt.Errorf("%s %q is negative", a.name, a.value)
		}
		*a.dst = v
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("market %s settings: %w", m, err)
	}
	return cfg, nil
}

// SeedOf is the seed of a market whose settings give none: a hash of its name.
func SeedOf(m Market) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.String()))
	return h.Sum64()
}
