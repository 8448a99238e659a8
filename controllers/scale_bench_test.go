package controllers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	mktest "github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// BenchmarkScoreboard500Traders plays a room of 500 Traders in one Market against a live
// engine (in this process) on the real API server, with the operator's production limits
// (see newWorld): the time until every Trader has a rank and the CPU time the API server
// spent meanwhile, the status writes per Trader per second while everybody trades, and the
// memory of this process (operator, engine and benchmark together: an upper bound of the
// operator's own).
func BenchmarkScoreboard500Traders(b *testing.B) {
	const traders = 500
	for range b.N {
		w := newWorld(b, func(o *Options) { o.ScoreInterval = time.Second; o.HealInterval = 5 * time.Second })
		w.market("room")
		pm := protocol.Market{Namespace: w.ns, Name: "room"}

		eng, err := engine.New(engine.Options{
			Redis: w.redis.Client(), Market: pm,
			Settings: protocol.Settings{TickInterval: protocol.Duration{Duration: time.Second}},
			Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			b.Fatalf("start the engine: %v", err)
		}
		ctx, stop := context.WithCancel(w.ctx)
		engineDone := make(chan error, 1)
		go func() { engineDone <- eng.Run(ctx) }()

		// Watched rather than listed: listing 500 Traders twice a second would cost the
		// API server a good part of what is measured.
		watchCtx, stopWatch := context.WithCancel(w.ctx)
		ranks, err := watchRanks(watchCtx, w.ns)
		if err != nil {
			b.Fatalf("watch traders: %v", err)
		}
		cpuBefore := controlPlaneCPU()
		start := time.Now()
		var wg sync.WaitGroup
		names := make(chan int)
		for range 16 {
			wg.Go(func() {
				for i := range names {
					tr := &v1alpha1.Trader{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bot-%03d", i), Namespace: w.ns},
						Spec: v1alpha1.TraderSpec{Market: "room", Team: fmt.Sprintf("Team %d", i), Strategy: &v1alpha1.StrategySpec{
							Builtin: &v1alpha1.BuiltinStrategy{Name: "momentum"},
						}},
					}
					if err := k8s.Create(w.ctx, tr); err != nil {
						b.Errorf("create trader: %v", err)
					}
				}
			})
		}
		for i := range traders {
			names <- i
		}
		close(names)
		wg.Wait()
		created := time.Since(start)

		ranked := map[string]bool{}
		progress := time.NewTicker(time.Second)
		timeout := time.After(2 * time.Minute)
		for len(ranked) < traders {
			select {
			case t := <-ranks:
				if t.Status.Rank > 0 {
					ranked[t.Name] = true
				}
			case <-progress.C:
				if os.Getenv("BENCH_PROGRESS") != "" {
					fmt.Fprintf(os.Stderr, "progress %5.1fs %d of %d ranked, %d registered, %d accounts\n", time.Since(start).Seconds(), len(ranked), traders,
						w.admin.HLen(w.ctx, pm.Keys().Traders()).Val(), w.admin.HLen(w.ctx, pm.Keys().Accounts()).Val())
				}
			case <-timeout:
				b.Fatalf("timed out waiting until every Trader has a rank: %d of %d ranked, %d registered, %d accounts", len(ranked), traders,
					w.admin.HLen(w.ctx, pm.Keys().Traders()).Val(), w.admin.HLen(w.ctx, pm.Keys().Accounts()).Val())
			}
		}
		progress.Stop()
		stopWatch()
		allRanked := time.Since(start)
		rankCPU := controlPlaneCPU() - cpuBefore

		// Everybody trades: each bot feeds a monkey every second, as its pod would.
		orders := w.redis.Client()
		trade := func() {
			p := orders.Pipeline()
			for i := range traders {
				p.XAdd(ctx, &redis.XAddArgs{Stream: pm.Keys().Orders(fmt.Sprintf("bot-%03d", i)), Values: []string{
					"kind", "feed", "qty", "1", "v", protocol.Version,
				}})
			}
			if _, err := p.Exec(ctx); err != nil {
				b.Errorf("send orders: %v", err)
			}
		}
		writes := func() float64 {
			return testutil.ToFloat64(statusWrites.WithLabelValues("Trader"))
		}
		const seconds = 8
		before := writes()
		t0 := time.Now()
		for range seconds {
			trade()
			time.Sleep(time.Second)
		}
		elapsed := time.Since(t0).Seconds()
		perTrader := (writes() - before) / elapsed / traders

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, err1 := mktest.ProcMemory(os.Getpid(), "VmRSS")
		hwm, err2 := mktest.ProcMemory(os.Getpid(), "VmHWM")
		if err := errors.Join(err1, err2); err != nil {
			b.Fatal(err)
		}

		b.ReportMetric(created.Seconds(), "s-create")
		b.ReportMetric(allRanked.Seconds(), "s-all-ranked")
		b.ReportMetric(rankCPU, "s-apiserver-cpu")
		b.ReportMetric(perTrader, "writes/trader/s")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(rss, "MiB-rss")
		b.ReportMetric(hwm, "MiB-rss-peak")
		b.Logf("500 Traders: created in %.1fs, all ranked after %.1fs (kube-apiserver and etcd busy %.1f CPU seconds meanwhile); %.2f status writes per Trader per second while all trade; heap %.0f MiB, RSS %.0f MiB (peak %.0f MiB) for operator, engine and benchmark",
			created.Seconds(), allRanked.Seconds(), rankCPU, perTrader, float64(ms.HeapAlloc)/(1<<20), rss, hwm)
		stop()
		if err := <-engineDone; err != nil && ctx.Err() == nil {
			b.Errorf("engine: %v", err)
		}
		_ = orders.Close()
	}
}

// watchRanks sends the Traders of namespace ns as an informer sees them change, until ctx
// ends; the informer lists and watches again when its watch breaks.
func watchRanks(ctx context.Context, ns string) (<-chan *v1alpha1.Trader, error) {
	c, err := cache.New(restCfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return nil, err
	}
	inf, err := c.GetInformer(ctx, &v1alpha1.Trader{})
	if err != nil {
		return nil, err
	}
	out := make(chan *v1alpha1.Trader, 1024)
	send := func(o any) {
		if t, ok := o.(*v1alpha1.Trader); ok {
			select {
			case out <- t:
			case <-ctx.Done():
			}
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    send,
		UpdateFunc: func(_, o any) { send(o) },
	})
	if err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, errors.New("the informer of Traders did not sync")
	}
	return out, nil
}

// controlPlaneCPU is the CPU time, in seconds, that the API server and etcd of envtest
// (children of this process) used so far. On a shared machine the wall-clock figures vary
// with the neighbours; this one says what the operator cost the API server.
func controlPlaneCPU() float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var cpu time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := mktest.ProcStat(pid)
		if err != nil || p.PPID != os.Getpid() || (p.Comm != "kube-apiserver" && p.Comm != "etcd") {
			continue
		}
		cpu += p.CPU
	}
	return cpu.Seconds()
}
