package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// The API server itself refuses a broken manifest, with a message that says what to fix.
func TestInvalidManifestsAreRefusedWithReadableMessages(t *testing.T) {
	ctx := context.Background()
	ns := "validation"
	_ = k8s.Create(ctx, namespace(ns))
	good := func() *v1alpha1.Trader {
		return &v1alpha1.Trader{
			ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: ns},
			Spec: v1alpha1.TraderSpec{Market: "meetup", Team: "Bananas", Strategy: &v1alpha1.StrategySpec{
				Builtin: &v1alpha1.BuiltinStrategy{Name: "momentum"},
			}},
		}
	}
	traders := []struct {
		name   string
		mutate func(*v1alpha1.Trader)
		want   string
	}{
		{"image and strategy", func(t *v1alpha1.Trader) { t.Spec.Image = &v1alpha1.ImageSpec{Name: "bot:1"} },
			"set exactly one of spec.image (your own container) or spec.strategy"},
		{"neither image nor strategy", func(t *v1alpha1.Trader) { t.Spec.Strategy = nil },
			"set exactly one of spec.image (your own container) or spec.strategy"},
		{"builtin and script", func(t *v1alpha1.Trader) { t.Spec.Strategy.Script = ptr.To("buy()") },
			"set exactly one of spec.strategy.builtin, spec.strategy.script or spec.strategy.scriptFrom"},
		{"empty strategy", func(t *v1alpha1.Trader) { t.Spec.Strategy.Builtin = nil },
			"set exactly one of spec.strategy.builtin, spec.strategy.script or spec.strategy.scriptFrom"},
		{"blank team", func(t *v1alpha1.Trader) { t.Spec.Team = "   " }, "spec.team must name your team"},
		{"long team", func(t *v1alpha1.Trader) { t.Spec.Team = strings.Repeat("x", 64) }, "spec.team"},
		{"script over 64 KiB", func(t *v1alpha1.Trader) {
			t.Spec.Strategy = &v1alpha1.StrategySpec{Script: ptr.To(strings.Repeat("#", 64*1024+1))}
		}, "spec.strategy.script"},
		{"MONKONOMY_ env", func(t *v1alpha1.Trader) {
			t.Spec.Strategy = nil
			t.Spec.Image = &v1alpha1.ImageSpec{Name: "bot:1"}
			t.Spec.Image.Env = append(t.Spec.Image.Env, envValue("MONKONOMY_TRADER", "someone-else"))
		}, "spec.image.env cannot set MONKONOMY_ variables"},
		{"name with a dot", func(t *v1alpha1.Trader) { t.Name = "bot.one" }, "a Trader's name must be 1-56 lower-case letters"},
	}
	for _, tc := range traders {
		t.Run("trader/"+tc.name, func(t *testing.T) {
			tr := good()
			tc.mutate(tr)
			err := k8s.Create(ctx, tr)
			if err == nil {
				t.Fatalf("the API server accepted it; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	t.Run("trader/market is immutable", func(t *testing.T) {
		tr := good()
		tr.Name = "mover"
		if err := k8s.Create(ctx, tr); err != nil {
			t.Fatalf("create: %v", err)
		}
		tr.Spec.Market = "other"
		err := k8s.Update(ctx, tr)
		if err == nil || !strings.Contains(err.Error(), "spec.market cannot change") {
			t.Fatalf("update of spec.market: got %v, want the immutability message", err)
		}
	})

	markets := []struct {
		name   string
		mutate func(*v1alpha1.Market)
		want   string
	}{
		{"zero tick interval", func(m *v1alpha1.Market) { m.Spec.TickInterval = &metav1.Duration{} },
			"tickInterval must be a positive duration"},
		{"zero duration", func(m *v1alpha1.Market) { m.Spec.Duration = &metav1.Duration{} },
			"duration must be a positive duration"},
		{"negative duration", func(m *v1alpha1.Market) { m.Spec.Duration = &metav1.Duration{Duration: -time.Minute} },
			"spec.duration"},
		{"zero price", func(m *v1alpha1.Market) { m.Spec.Price.Initial = "0.000" }, "price.initial must be above zero"},
		{"coins with 7 decimals", func(m *v1alpha1.Market) { m.Spec.Rules.InitialCoins = "1.0000001" }, "spec.rules.initialCoins"},
		{"long name", func(m *v1alpha1.Market) { m.Name = strings.Repeat("m", 51) }, "a Market's name must be 1-50"},
		{"password without address", func(m *v1alpha1.Market) {
			m.Spec.Redis = &v1alpha1.RedisSpec{SecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "redis"}, Key: "password"}}
		}, "spec.redis.secretRef needs spec.redis.address"},
	}
	for _, tc := range markets {
		t.Run("market/"+tc.name, func(t *testing.T) {
			m := &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Name: "meetup", Namespace: ns}}
			tc.mutate(m)
			err := k8s.Create(ctx, m)
			if err == nil {
				t.Fatalf("the API server accepted it; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	t.Run("market/defaults", func(t *testing.T) {
		m := &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns}}
		if err := k8s.Create(ctx, m); err != nil {
			t.Fatalf("create: %v", err)
		}
		if m.Spec.TickInterval == nil || m.Spec.TickInterval.Duration != time.Second {
			t.Errorf("tickInterval = %v, want the default 1s", m.Spec.TickInterval)
		}
		if m.Spec.Rules.InitialCoins != "10" || ptr.Deref(m.Spec.Rules.BailoutPenalty, 0) != 20 || m.Spec.Hype.Hashtag != "mktd" {
			t.Errorf("rules defaults = %+v, hype = %+v; want the rules of the game", m.Spec.Rules, m.Spec.Hype)
		}
		if !ptr.Deref(m.Spec.Dashboard.Enabled, false) || m.Spec.Dashboard.ServiceType != "ClusterIP" {
			t.Errorf("dashboard defaults = %+v", m.Spec.Dashboard)
		}
	})
}
