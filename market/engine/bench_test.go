package engine

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// benchTraders is how many simulated traders flood the engine (flag -traders or env
// MONKONOMY_BENCH_TRADERS).
var benchTraders = flag.Int("traders", envInt("MONKONOMY_BENCH_TRADERS", 100), "simulated traders of the engine benchmarks")

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// floodSettings let every trader send as many orders as it likes.
func floodSettings() protocol.Settings {
	s := steadySettings(time.Second)
	s.Rules.MaxOrdersPerTick = 1_000_000_000
	s.Rules.MaxGibbsPerTick = 1_000_000_000
	return s
}

// benchOrder is the i-th order of a trader: buys, sells and feeds that keep being accepted.
func benchOrder(i int, id string) rules.Order {
	switch i % 4 {
	case 0, 2:
		return rules.Order{ID: id, Kind: rules.KindBuy, Qty: 1}
	case 1:
		return rules.Order{ID: id, Kind: rules.KindSell, Qty: 1}
	}
	return rules.Order{ID: id, Kind: rules.KindFeed, Qty: 1}
}

// answered is how many orders the engine has answered.
func (e *Engine) answered() float64 {
	total := 0.0
	for _, st := range []string{"accepted", "insufficient_coins", "insufficient_shares", "invalid", "rate_limited"} {
		total += testCount(e.metrics.orders.WithLabelValues(st))
	}
	return total
}

func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("t%03d", i)
	}
	return names
}

// loadClient connects the simulated traders: a client of their own, with a connection for
// each trader following its results and some to spare, apart from the engine's.
func loadClient(b *testing.B, srv *testredis.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password, PoolSize: 2**benchTraders + 16})
	b.Cleanup(func() { c.Close() })
	return c
}

// cpuUse is the CPU time used so far by this process and by a redis-server: on a shared
// machine, CPU per order varies much less than orders per second.
type cpuUse struct{ process, redis time.Duration }

func cpuNow(b *testing.B, rdb *redis.Client) cpuUse {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	u := cpuUse{process: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			sec, _ := strconv.ParseFloat(v, 64)
			u.redis += time.Duration(sec * float64(time.Second))
		}
	}
	return u
}

// reportCPU reports the CPU time per order since start, of Redis and of this process (the
// engine and the simulated traders).
func reportCPU(b *testing.B, rdb *redis.Client, start cpuUse, orders int) {
	end := cpuNow(b, rdb)
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(orders) }
	b.ReportMetric(per(end.redis-start.redis), "redis-cpu-µs/order")
	b.ReportMetric(per(end.process-start.process), "go-cpu-µs/order")
}

// Flooding: a few connections, each writing the orders of its share of the traders in
// pipelines of floodDepth XADDs, which is how Redis appends fastest.
const floodWriters, floodDepth = 4, 500

// flood appends n orders spread evenly over the traders' streams and returns when all are
// written. Each trader's orders are written by one connection, in order.
func flood(b *testing.B, rdb *redis.Client, stream func(trader string) string, names []string, n int) {
	writers := min(floodWriters, len(names))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ctx := context.Background()
			var mine []string
			for i := w; i < len(names); i += writers {
				mine = append(mine, stream(names[i]))
			}
			// This writer's share of the orders, to its traders in turn.
			count := (n - w + writers - 1) / writers
			p := rdb.Pipeline()
			args := make([]any, 0, 16)
			for i := range count {
				key, seq := mine[i%len(mine)], i/len(mine)
				args = protocol.AppendOrder(args[:0], benchOrder(seq, "o"+strconv.Itoa(seq)))
				p.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: slices.Clone(args)})
				if p.Len() == floodDepth || i == count-1 {
					if _, err := p.Exec(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkEngineThroughput floods the engine with orders from many traders through a real
// redis-server and reports orders per second end to end (first order written → last order
// answered), next to the rate of raw pipelined XADDs of the same entries on the same server.
func BenchmarkEngineThroughput(b *testing.B) {
	srv, rdb := newRedis(b)
	load := loadClient(b, srv)
	names := benchNames(*benchTraders)
	n := max(b.N, 200_000)

	// Raw XADD: the same entries, the same pipelines, into streams nobody reads.
	rawStart := cpuNow(b, load)
	start := time.Now()
	flood(b, load, func(t string) string { return "raw:" + t }, names, n)
	rawRate := float64(n) / time.Since(start).Seconds()
	rawCPU := cpuNow(b, load).redis - rawStart.redis
	for _, name := range names {
		load.Del(context.Background(), "raw:"+name)
	}

	register(b, rdb, names...)
	// The lease lasts as long as in production (LeaseTTL 0 is the default), not the tests'
	// second: on a busy machine a batch may well take that long.
	e := startEngine(b, rdb, floodSettings(), func(o *Options) { o.ResultsMaxLen, o.LeaseTTL = 1000, 0 })
	eventually(b, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	base := e.answered()
	b.ResetTimer()
	cpu := cpuNow(b, load)
	start = time.Now()
	flood(b, load, func(t string) string { return testMarket.Keys().Orders(t) }, names, n)
	deadline := time.Now().Add(2 * time.Minute)
	for e.answered()-base < float64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("the engine answered %v of %d orders in 2 minutes", e.answered()-base, n)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(n) / elapsed.Seconds()
	reportCPU(b, load, cpu, n)
	b.ReportMetric(float64(rawCPU.Nanoseconds())/1000/float64(n), "raw-redis-cpu-µs/xadd")
	b.ReportMetric(rate, "orders/s")
	b.ReportMetric(rawRate, "raw-xadd/s")
	b.ReportMetric(100*rate/rawRate, "%-of-raw")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders, %d orders: %.0f orders/s end to end, raw pipelined XADD %.0f/s (%.1f %%)",
		len(names), n, rate, rawRate, 100*rate/rawRate)
}

// BenchmarkEngineLatency offers 10,000 orders per second from many traders and reports the
// p50 and p99 time from appending an order to its trader reading the result. Every trader
// follows its own results stream with a blocking XREAD, as real traders do.
func BenchmarkEngineLatency(b *testing.B) {
	srv, rdb := newRedis(b)
	load := loadClient(b, srv)
	names := benchNames(*benchTraders)
	register(b, rdb, names...)
	e := startEngine(b, rdb, floodSettings(), func(o *Options) { o.LeaseTTL = 0 })
	eventually(b, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	const rate, seconds = 10_000, 3
	total := rate * seconds

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received atomic.Int64
	all := make(chan struct{})
	lats := make([][]time.Duration, len(names))
	var receivers sync.WaitGroup
	for i, name := range names {
		receivers.Go(func() {
			key, last := testMarket.Keys().Results(name), "0"
			for ctx.Err() == nil {
				res, err := load.XRead(ctx, &redis.XReadArgs{Streams: []string{key, last}, Count: 1000, Block: 200 * time.Millisecond}).Result()
				now := time.Now()
				if err != nil {
					continue
				}
				for _, st := range res {
					for _, m := range st.Messages {
						last = m.ID
						id, _ := m.Values[protocol.FieldID].(string)
						_, sent, ok := strings.Cut(id, "-")
						if ns, err := strconv.ParseInt(sent, 10, 64); ok && err == nil {
							lats[i] = append(lats[i], now.Sub(time.Unix(0, ns)))
						}
					}
					if received.Add(int64(len(st.Messages))) >= int64(total) {
						select {
						case <-all:
						default:
							close(all)
						}
					}
				}
			}
		})
	}

	b.ResetTimer()
	cpu := cpuNow(b, load)
	// Every millisecond, the orders due by then go out in one pipeline, each to the next
	// trader in turn, stamped with the time they are written.
	tick := time.NewTicker(time.Millisecond)
	sent := 0
	started := time.Now()
	p := load.Pipeline()
	for sent < total {
		<-tick.C
		due := min(int(time.Since(started).Seconds()*rate), total)
		now := time.Now().UnixNano()
		for ; sent < due; sent++ {
			name := names[sent%len(names)]
			o := benchOrder(sent/len(names), fmt.Sprintf("%d-%d", sent, now))
			p.XAdd(ctx, &redis.XAddArgs{Stream: testMarket.Keys().Orders(name), Values: protocol.AppendOrder(nil, o)})
		}
		if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		b.Fatalf("only %d of %d results arrived in 30s (the engine answered %v orders)", received.Load(), total, e.answered())
	}
	b.StopTimer()
	reportCPU(b, load, cpu, total)
	cancel()
	receivers.Wait()
	var lat []time.Duration
	for _, l := range lats {
		lat = append(lat, l...)
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders at %d orders/s: p50 %v, p99 %v over %d orders", len(names), rate, p50, p99, len(lat))
}
