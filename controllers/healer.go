package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

var heals = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "monkonomy_operator_redis_heals_total",
	Help: "Traders whose Redis user or registration went missing and were reconciled again.",
})

func init() {
	metrics.Registry.MustRegister(heals)
}

// Healer notices when Redis lost what the operator wrote there (a restart without
// persistence, an ACL DELUSER by hand) and sends the Traders concerned back to their
// reconciler, which writes their user and registration again. Once per Interval it reads
// each server's ACL users and each market's registrations: two commands per market.
type Healer struct {
	Cache     client.Reader
	APIReader client.Reader
	Redis     *RedisPool
	Interval  time.Duration
	Events    chan<- event.TypedGenericEvent[*v1alpha1.Trader]
}

// NeedLeaderElection: only the leader reconciles.
func (h *Healer) NeedLeaderElection() bool { return true }

// Start checks until ctx ends.
func (h *Healer) Start(ctx context.Context) error {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := h.Check(ctx); err != nil && ctx.Err() == nil {
			log.FromContext(ctx).Error(err, "Redis check failed")
		}
	}
}

// Check compares Redis with the Traders once.
func (h *Healer) Check(ctx context.Context) error {
	var markets v1alpha1.MarketList
	if err := h.Cache.List(ctx, &markets); err != nil {
		return fmt.Errorf("list markets: %w", err)
	}
	var errs []error
	users := map[RedisTarget]map[string]bool{}
	for i := range markets.Items {
		m := &markets.Items[i]
		if !m.DeletionTimestamp.IsZero() {
			continue
		}
		var traders v1alpha1.TraderList
		if err := h.Cache.List(ctx, &traders, client.InNamespace(m.Namespace), client.MatchingFields{traderMarketIndex: m.Name}); err != nil {
			errs = append(errs, fmt.Errorf("list the traders of market %s: %w", m.Name, err))
			continue
		}
		if len(traders.Items) == 0 {
			continue
		}
		c, target, err := h.Redis.clientFor(ctx, h.APIReader, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if users[target] == nil {
			if users[target], err = aclUsers(ctx, c); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		pm := marketOf(m)
		registered, err := c.HKeys(ctx, pm.Keys().Traders()).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("read the traders of market %s: %w", pm, err))
			continue
		}
		isRegistered := make(map[string]bool, len(registered))
		for _, r := range registered {
			isRegistered[r] = true
		}
		for j := range traders.Items {
			t := &traders.Items[j]
			// Traders not reconciled yet (or not since their last change), or on their way
			// out, are their reconciler's.
			if !t.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(t, finalizer) || t.Status.ObservedGeneration != t.Generation {
				continue
			}
			if users[target][traderUser(pm, t.Name)] && isRegistered[t.Name] {
				continue
			}
			log.FromContext(ctx).Info("Redis lost a trader's user or registration; reconciling it again", "trader", t.Name, "market", pm.String())
			heals.Inc()
			select {
			case h.Events <- event.TypedGenericEvent[*v1alpha1.Trader]{Object: t.DeepCopy()}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return errors.Join(errs...)
}
