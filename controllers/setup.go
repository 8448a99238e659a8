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
	// StatusQPS is the scoreboard's share of the API server, in status writes per second
	// (DefaultStatusQPS): a pass writes every first rank, and the rest up to
	// StatusQPS × ScoreInterval objects in all, the most urgent first.
	StatusQPS float32
	// ScoreWorkers is how many status writes the scoreboard sends at once.
	ScoreWorkers int
	// TraderWorkers is how many Traders are reconciled at once (DefaultTraderWorkers).
	TraderWorkers int
}

// Defaults of the operator, shared with the manager's flags.
const (
	// DefaultAPIQPS and DefaultAPIBurst limit the reconcilers' requests to the API server,
	// per kind of object (client-go gives each its own limiter). A new Trader costs two
	// requests on Traders (finalizer, status) and one on Secrets, NetworkPolicies and
	// Deployments each: a room of 500 fits in (1000-400)/200 = 3 s.
	DefaultAPIQPS   = 200
	DefaultAPIBurst = 400
	// DefaultStatusQPS lets the scoreboard refresh every trader of a room of 50 each
	// second, and of a room of 500 every ten seconds (first ranks, ranks and scores
	// before holdings), while leaving the API server most of its time for registering
	// Traders and for everybody else.
	DefaultStatusQPS = 50
	// DefaultTraderWorkers: reconciles wait on the API server and Redis, not the CPU.
	DefaultTraderWorkers = 16
)

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
		o.StatusQPS = DefaultStatusQPS
	}
	if o.ScoreWorkers <= 0 {
		o.ScoreWorkers = 16
	}
	if o.TraderWorkers <= 0 {
		o.TraderWorkers = DefaultTraderWorkers
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
		Workers: o.TraderWorkers,
	}
	if err := traders.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the trader controller: %w", err)
	}

	// The scoreboard writes with its own client, and so its own rate limiter, so that
	// scores neither wait behind nor hold up the reconcilers. Its budget (StatusQPS)
	// keeps it within its share; the limiter only stops a runaway.
	writer, err := client.New(rest.CopyConfig(mgr.GetConfig()), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return nil, fmt.Errorf("create the scoreboard's client: %w", err)
	}
	board := &Scoreboard{
		Cache: mgr.GetClient(), Writer: writer, APIReader: mgr.GetAPIReader(), Redis: pool,
		Clock: o.Clock, Interval: o.ScoreInterval, Workers: o.ScoreWorkers,
		Budget: max(1, int(float64(o.StatusQPS)*o.ScoreInterval.Seconds())),
	}
	healer := &Healer{Cache: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Redis: pool, Interval: o.HealInterval, Events: heal}
	if err := mgr.Add(board); err != nil {
		return nil, err
	}
	if err := mgr.Add(healer); err != nil {
		return nil, err
	}
	return &Operator{Redis: pool, Scoreboard: board}, nil
}
