package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// marketSettings renders a Market's spec as the engine's settings file.
func marketSettings(m *v1alpha1.Market) protocol.Settings {
	s := m.Spec
	out := protocol.Settings{
		Suspend: s.Suspend,
		Price:   protocol.PriceSettings{Initial: s.Price.Initial, Drift: s.Price.Drift, Volatility: s.Price.Volatility},
		Hype: protocol.HypeSettings{
			Hashtag: s.Hype.Hashtag, Positive: s.Hype.Positive, Negative: s.Hype.Negative,
			BurstStepTicks: int(s.Hype.BurstStepTicks),
		},
		Rules: protocol.RulesSettings{
			InitialCoins:     s.Rules.InitialCoins,
			MaxOrdersPerTick: int(s.Rules.MaxOrdersPerTick),
			MaxGibbsPerTick:  int(s.Rules.MaxGibbsPerTick),
			Bailout:          protocol.BailoutSettings{Coins: s.Rules.Bailout.Coins},
		},
	}
	if s.TickInterval != nil {
		out.TickInterval = protocol.Duration{Duration: s.TickInterval.Duration}
	}
	if s.Duration != nil {
		out.Duration = protocol.Duration{Duration: s.Duration.Duration}
	}
	if s.Seed != nil {
		seed := uint64(*s.Seed)
		out.Seed = &seed
	}
	if s.Rules.InitialShares != nil {
		out.Rules.InitialShares = *s.Rules.InitialShares
	}
	if s.Rules.BailoutPenalty != nil {
		out.Rules.BailoutPenalty = *s.Rules.BailoutPenalty
	}
	if s.Rules.Bailout.Shares != nil {
		out.Rules.Bailout.Shares = *s.Rules.Bailout.Shares
	}
	return out
}

// renderSettings returns the settings file and the hash that restarts the engine when the
// game changes. Suspend is left out of the hash: pausing travels through the inbox and
// must not restart the engine.
func renderSettings(m *v1alpha1.Market) (file string, hash string, err error) {
	s := marketSettings(m)
	b, err := yaml.Marshal(s)
	if err != nil {
		return "", "", fmt.Errorf("render the settings of market %s: %w", m.Name, err)
	}
	s.Suspend = false
	h, err := yaml.Marshal(s)
	if err != nil {
		return "", "", fmt.Errorf("render the settings of market %s: %w", m.Name, err)
	}
	sum := sha256.Sum256(h)
	return string(b), hex.EncodeToString(sum[:8]), nil
}
