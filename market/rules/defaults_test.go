package rules

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestZeroConfigPlaysTheStandardGame(t *testing.T) {
	c := Config{}.WithDefaults()
	want := Config{
		TickInterval: time.Second, PriceInitial: 1, PriceDrift: 0.0001, PriceVolatility: 0.01, Hashtag: "mktd",
		BurstStepTicks: 5, InitialCoins: Coins(10), InitialShares: 5, BailoutPenalty: 20, BailoutCoins: Coins(10),
		BailoutShares: 5, MaxOrdersPerTick: 5, MaxGibbsPerTick: 1,
	}
	got := c
	got.Positive, got.Negative = nil, nil
	if !equalConfig(got, want) {
		t.Errorf("Config{}.WithDefaults() = %+v; want %+v", got, want)
	}
	if len(c.Positive) != 22 || !slices.Contains(c.Positive, "merci") || len(c.Negative) != 17 || !slices.Contains(c.Negative, "bubble") {
		t.Errorf("default words = %v / %v", c.Positive, c.Negative)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Config{}.Validate() = %v", err)
	}
}

func equalConfig(a, b Config) bool {
	return a.TickInterval == b.TickInterval && a.PriceInitial == b.PriceInitial && a.PriceDrift == b.PriceDrift &&
		a.PriceVolatility == b.PriceVolatility && a.Hashtag == b.Hashtag && a.BurstStepTicks == b.BurstStepTicks &&
		a.InitialCoins == b.InitialCoins && a.InitialShares == b.InitialShares && a.BailoutPenalty == b.BailoutPenalty &&
		a.BailoutCoins == b.BailoutCoins && a.BailoutShares == b.BailoutShares &&
		a.MaxOrdersPerTick == b.MaxOrdersPerTick && a.MaxGibbsPerTick == b.MaxGibbsPerTick
}

func TestOrganiserSettingsAreKept(t *testing.T) {
	c := Config{Seed: 9, PriceInitial: 2.5, Hashtag: "bananas", Positive: []string{"ripe"}, InitialCoins: Coins(100)}.WithDefaults()
	if c.Seed != 9 || c.PriceInitial != 2.5 || c.Hashtag != "bananas" || !slices.Equal(c.Positive, []string{"ripe"}) || c.InitialCoins != Coins(100) {
		t.Errorf("WithDefaults changed organiser settings: %+v", c)
	}
}

func TestValidateExplainsEveryBadField(t *testing.T) {
	for name, tc := range map[string]struct {
		c   Config
		why string
	}{
		"negative tick":       {Config{TickInterval: -time.Second}, "tickInterval"},
		"negative volatility": {Config{PriceVolatility: -0.1}, "price.volatility"},
		"NaN drift":           {Config{PriceDrift: math.NaN()}, "price.drift"},
		"negative price":      {Config{PriceInitial: -1}, "price.initial"},
		"hashtag with #":      {Config{Hashtag: "#mktd"}, "hype.hashtag"},
		"upper-case hashtag":  {Config{Hashtag: "MKTD"}, "hype.hashtag"},
		"word with space":     {Config{Positive: []string{"very good"}}, "hype.positive"},
		"word in both lists":  {Config{Positive: []string{"meh"}, Negative: []string{"meh"}}, "already in hype.positive"},
		"word is hashtag":     {Config{Negative: []string{"mktd"}}, "hashtag word"},
		"negative burst":      {Config{BurstStepTicks: -1}, "hype.burstStepTicks"},
		"negative coins":      {Config{InitialCoins: -1}, "rules.initialCoins"},
		"negative shares":     {Config{InitialShares: -1}, "rules.initialShares"},
		"negative penalty":    {Config{BailoutPenalty: -1}, "rules.bailoutPenalty"},
		"negative bailout":    {Config{BailoutCoins: -1}, "rules.bailout.coins"},
		"negative orders":     {Config{MaxOrdersPerTick: -5}, "rules.maxOrdersPerTick"},
		"negative gibbs":      {Config{MaxGibbsPerTick: -1}, "rules.maxGibbsPerTick"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: Validate() = %v; want a message about %s", name, err, tc.why)
		}
	}
}
