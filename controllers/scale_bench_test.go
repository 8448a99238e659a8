package controllers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// BenchmarkScoreboard500Traders plays a room of 500 Traders in one Market against a live
// engine (in this process) on the real API server: the time until every Trader has a
// rank, the status writes per Trader per second while everybody trades, and the memory
// of this process (operator, engine and benchmark together: an upper bound of the
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

		w.eventuallyWithin(2*time.Minute, "every Trader has a rank", func() (bool, string) {
			var list v1alpha1.TraderList
			if err := k8s.List(w.ctx, &list, client.InNamespace(w.ns)); err != nil {
				return false, err.Error()
			}
			ranked := 0
			for _, t := range list.Items {
				if t.Status.Rank > 0 {
					ranked++
				}
			}
			msg := fmt.Sprintf("%d of %d ranked, %d registered, %d accounts", ranked, traders,
				w.admin.HLen(w.ctx, pm.Keys().Traders()).Val(), w.admin.HLen(w.ctx, pm.Keys().Accounts()).Val())
			if os.Getenv("BENCH_PROGRESS") != "" {
				fmt.Fprintf(os.Stderr, "progress %5.1fs %s\n", time.Since(start).Seconds(), msg)
			}
			return ranked == traders, msg
		})
		allRanked := time.Since(start)

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
		rss := procStatus("VmRSS")
		hwm := procStatus("VmHWM")

		b.ReportMetric(created.Seconds(), "s-create")
		b.ReportMetric(allRanked.Seconds(), "s-all-ranked")
		b.ReportMetric(perTrader, "writes/trader/s")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(rss, "MiB-rss")
		b.ReportMetric(hwm, "MiB-rss-peak")
		b.Logf("500 Traders: created in %.1fs, all ranked after %.1fs; %.2f status writes per Trader per second while all trade; heap %.0f MiB, RSS %.0f MiB (peak %.0f MiB) for operator, engine and benchmark",
			created.Seconds(), allRanked.Seconds(), perTrader, float64(ms.HeapAlloc)/(1<<20), rss, hwm)
		stop()
		if err := <-engineDone; err != nil && ctx.Err() == nil {
			b.Errorf("engine: %v", err)
		}
		_ = orders.Close()
	}
}

// procStatus reads a memory figure of this process, in MiB, from /proc/self/status.
func procStatus(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
