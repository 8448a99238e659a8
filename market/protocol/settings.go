package protocol

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

// Settings is a market's configuration file, as the operator writes it into the engine's
// ConfigMap and as `monkonomy engine --config FILE` reads it (YAML or JSON). Field names
// match the Market resource's spec; amounts are decimal strings, durations Go durations
// ("1s", "90m"). Every field is optional: an empty one takes the rules' default.
type Settings struct {
	TickInterval Duration      `json:"tickInterval,omitempty"`
	Duration     Duration      `json:"duration,omitempty"` // 0: the market stays open until closed
	Seed         *uint64       `json:"seed,omitempty"`     // nil: a seed derived from the market name
	Suspend      bool          `json:"suspend,omitempty"`  // true: paused (or pending) until resumed
	Price        PriceSettings `json:"price,omitempty"`
	Hype         HypeSettings  `json:"hype,omitempty"`
	Rules        RulesSettings `json:"rules,omitempty"`
}

type PriceSettings struct {
	Initial    string `json:"initial,omitempty"`    // e.g. "1"
	Drift      string `json:"drift,omitempty"`      // e.g. "0.0001"
	Volatility string `json:"volatility,omitempty"` // e.g. "0.01"
}

type HypeSettings struct {
	Hashtag        string   `json:"hashtag,omitempty"`
	Positive       []string `json:"positive,omitempty"`
	Negative       []string `json:"negative,omitempty"`
	BurstStepTicks int      `json:"burstStepTicks,omitempty"`
}

type RulesSettings struct {
	InitialCoins     string          `json:"initialCoins,omitempty"`
	InitialShares    int64           `json:"initialShares,omitempty"`
	BailoutPenalty   int64           `json:"bailoutPenalty,omitempty"`
	Bailout          BailoutSettings `json:"bailout,omitempty"`
	MaxOrdersPerTick int             `json:"maxOrdersPerTick,omitempty"`
	MaxGibbsPerTick  int             `json:"maxGibbsPerTick,omitempty"`
}

type BailoutSettings struct {
	Coins  string `json:"coins,omitempty"`
	Shares int64  `json:"shares,omitempty"`
}

// Duration is a time.Duration written as a Go duration string.
type Duration struct{ time.Duration }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"1s\" or \"90m\": %w", err)
	}
	if s == "" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

// LoadSettings reads a settings file (YAML or JSON); unknown fields are an error, so a typo
// does not silently play the default game.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read market settings: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		return s, fmt.Errorf("market settings %s: %w", path, err)
	}
	return s, nil
}
