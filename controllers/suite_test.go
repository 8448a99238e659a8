package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
)

// One API server for the package: it takes seconds to start, a namespace per test keeps
// the tests apart.
var (
	testEnv *envtest.Environment
	restCfg *rest.Config
	k8s     client.Client
	scheme  = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	assets, err := testutil.EnvtestAssets("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the tests of the operator need kube-apiserver and etcd:", err)
		return 1
	}
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	// The operator's logs would drown the test output; failures say what went wrong.
	log.SetLogger(logr.Discard())
	if os.Getenv("OPERATOR_ERRORS") != "" {
		log.SetLogger(funcr.New(func(prefix, args string) {
			if strings.Contains(args, `"error"`) {
				fmt.Fprintln(os.Stderr, prefix, args)
			}
		}, funcr.Options{}))
	}
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
		BinaryAssetsDirectory: assets,
	}
	if restCfg, err = testEnv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start envtest:", err)
		return 1
	}
	defer func() { _ = testEnv.Stop() }()
	restCfg.QPS, restCfg.Burst = 1000, 2000
	if k8s, err = client.New(restCfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: client:", err)
		return 1
	}
	return m.Run()
}

// world is one test's operator: a namespace, a Redis with an admin password, and a
// manager that only sees that namespace.
type world struct {
	t     testing.TB
	ctx   context.Context
	ns    string
	redis *testredis.Server
	admin *redis.Client
	op    *Operator
}

type worldOption func(*Options)

func newWorld(t testing.TB, opts ...worldOption) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := testredis.Start(t, testredis.WithPassword("admin-secret"))
	ns := fmt.Sprintf("t-%d", time.Now().UnixNano()%1_000_000_000)
	if err := k8s.Create(ctx, namespace(ns)); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	co := CacheOptions()
	co.DefaultNamespaces = map[string]cache.Config{ns: {}}
	// The manager gets the limits it has in production (see cmd/monkonomy/manager.go).
	cfg := rest.CopyConfig(restCfg)
	cfg.QPS, cfg.Burst = DefaultAPIQPS, DefaultAPIBurst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  co,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 log.Log.WithName(ns),
	})
	if err != nil {
		t.Fatalf("create manager: %v", err)
	}
	o := Options{
		Image:         "example.test/monkonomy:test",
		Redis:         RedisTarget{Addr: srv.Addr, Password: srv.Password},
		ScoreInterval: 200 * time.Millisecond,
		HealInterval:  200 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	op, err := Setup(mgr, o)
	if err != nil {
		t.Fatalf("set up operator: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	admin := srv.Client()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("manager did not stop")
		}
		op.Redis.Close()
		_ = admin.Close()
	})
	return &world{t: t, ctx: ctx, ns: ns, redis: srv, admin: admin, op: op}
}

// eventually polls cond until it holds, or fails the test with what it last said.
func (w *world) eventually(what string, cond func() (bool, string)) {
	w.t.Helper()
	w.eventuallyWithin(20*time.Second, what, cond)
}

func (w *world) eventuallyWithin(limit time.Duration, what string, cond func() (bool, string)) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		// Polling is cheap for one object; lists of hundreds poll less often (limit).
		time.Sleep(max(50*time.Millisecond, limit/200))
	}
	w.t.Fatalf("timed out waiting until %s; last: %s", what, last)
}

func (w *world) market(name string, mutate ...func(*v1alpha1.Market)) *v1alpha1.Market {
	w.t.Helper()
	m := &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns}}
	for _, f := range mutate {
		f(m)
	}
	if err := k8s.Create(w.ctx, m); err != nil {
		w.t.Fatalf("create market %s: %v", name, err)
	}
	return m
}

func (w *world) trader(name, market, team string, mutate ...func(*v1alpha1.Trader)) *v1alpha1.Trader {
	w.t.Helper()
	t := &v1alpha1.Trader{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns},
		Spec: v1alpha1.TraderSpec{Market: market, Team: team, Strategy: &v1alpha1.StrategySpec{
			Builtin: &v1alpha1.BuiltinStrategy{Name: "momentum"},
		}},
	}
	for _, f := range mutate {
		f(t)
	}
	if err := k8s.Create(w.ctx, t); err != nil {
		w.t.Fatalf("create trader %s: %v", name, err)
	}
	return t
}

func (w *world) get(name string, obj client.Object) error {
	return k8s.Get(w.ctx, client.ObjectKey{Namespace: w.ns, Name: name}, obj)
}

// condition returns the condition of type typ, or a zero one.
func condition(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

func describe(conds []metav1.Condition) string {
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "%s=%s(%s: %s) ", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// update reads obj afresh, changes it and writes it, again if someone else wrote first.
func (w *world) update(name string, obj client.Object, mutate func()) {
	w.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := w.get(name, obj); err != nil {
			return err
		}
		mutate()
		return k8s.Update(w.ctx, obj)
	})
	if err != nil {
		w.t.Fatalf("update %s: %v", name, err)
	}
}
