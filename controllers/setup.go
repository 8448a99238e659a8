// Package controllers is the Monkonomy operator: a reconciler per kind (Market, Trader),
// the Scoreboard that writes ranks and holdings into their status, and the Healer that
// puts back what Redis lost.
package controllers

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// Options configure the operator.
type Options struct {
	// Image runs engines and strategy traders unless a Market names another.
	Image string
	// Redis is the operator's Redis: where Markets without spec.redis live.
	Redis RedisTarget
	// Clock is read for condition times and status timestamps; nil means the real one.
	Clock clock.Clock
	// ScoreInterval is the time between two scoreboard passes (one second).
	ScoreInterval time.Duration
	// HealInterval is the time between two checks of Redis (five seconds).
	HealInterval time.Duration
	// StatusQPS and StatusBurst limit the scoreboard's writes to the API server.
	StatusQPS   float32
	StatusBurst int
	// ScoreWorkers is how many status writes the scoreboard sends at once.
	ScoreWorkers int
}

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.ScoreInterval <= 0 {
		o.ScoreInterval = time.Second
	}
	if o.HealInterval <= 0 {
		o.HealInterval = 5 * time.Second
	}
	if o.StatusQPS <= 0 {
		o.StatusQPS = 500
	}
	if o.StatusBurst <= 0 {
		o.StatusBurst = 1000
	}
	if o.ScoreWorkers <= 0 {
		o.ScoreWorkers = 16
	}
}

// CacheOptions keep the manager's cache to the operator's own objects: the engine and
// trader Deployments, Services, ConfigMaps, Secrets, NetworkPolicies and Pods carry the
// managed-by label, and nothing else of those kinds is cached.
func CacheOptions() cache.Options {
	own := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy})
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:          {Label: own},
		&corev1.Service{}:             {Label: own},
		&corev1.ConfigMap{}:           {Label: own},
		&corev1.Secret{}:              {Label: own},
		&corev1.Pod{}:                 {Label: own},
		&networkingv1.NetworkPolicy{}: {Label: own},
	}}
}

// Operator is what Setup registered, for tests and benchmarks.
type Operator struct {
	Redis      *RedisPool
	Scoreboard *Scoreboard
	Healer     *Healer
}

// Setup registers the reconcilers, the scoreboard and the healer with mgr. The manager
// must use CacheOptions.
func Setup(mgr ctrl.Manager, o Options) (*Operator, error) {
	o.defaults()
	pool := NewRedisPool(o.Redis)
	heal := make(chan event.TypedGenericEvent[*v1alpha1.Trader], 128)

	markets := &MarketReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("monkonomy-market"), Redis: pool, Clock: o.Clock, Image: o.Image,
	}
	if err := markets.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the market controller: %w", err)
	}
	traders := &TraderReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("monkonomy-trader"), Redis: pool, Clock: o.Clock, Image: o.Image, Heal: heal,
	}
	if err := traders.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the trader controller: %w", err)
	}

	// The scoreboard writes with its own client and rate limit: 500 status writes a
	// second must not wait behind, nor hold up, the reconcilers.
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.QPS, cfg.Burst = o.StatusQPS, o.StatusBurst
	writer, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return nil, fmt.Errorf("create the scoreboard's client: %w", err)
	}
	board := &Scoreboard{
		Cache: mgr.GetClient(), Writer: writer, APIReader: mgr.GetAPIReader(), Redis: pool,
		Clock: o.Clock, Interval: o.ScoreInterval, Workers: o.ScoreWorkers,
	}
	healer := &Healer{Cache: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Redis: pool, Interval: o.HealInterval, Events: heal}
	if err := mgr.Add(board); err != nil {
		return nil, err
	}
	if err := mgr.Add(healer); err != nil {
		return nil, err
	}
	return &Operator{Redis: pool, Scoreboard: board, Healer: healer}, nil
}
