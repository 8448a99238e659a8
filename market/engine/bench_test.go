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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

// flood has every trader append its share of n orders in pipelines of 100 and returns
// when all are written.
func flood(b *testing.B, rdb *redis.Client, stream func(trader string) string, names []string, n int) {
	var wg sync.WaitGroup
	per := (n + len(names) - 1) / len(names)
	for ti, name := range names {
		wg.Go(func() {
			ctx := context.Background()
			key := stream(name)
			args := make([]any, 0, 16)
			for i := 0; i < per && ti*per+i < n; i += 100 {
				p := rdb.Pipeline()
				for j := i; j < min(i+100, per) && ti*per+j < n; j++ {
					args = protocol.AppendOrder(args[:0], benchOrder(j, "o"+strconv.Itoa(j)))
					p.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: slices.Clone(args)})
				}
				if _, err := p.Exec(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkEngineThroughput floods the engine with orders from many traders through a real
// redis-server and reports orders per second end to end (order written → result written),
// next to the rate of raw pipelined XADDs on the same server.
func BenchmarkEngineThroughput(b *testing.B) {
	_, rdb := newRedis(b)
	rdb.Options().PoolSize = 4 * *benchTraders
	names := benchNames(*benchTraders)
	n := max(b.N, 50_000)

	// Raw XADD: the same entries, the same pipelines, into streams nobody reads.
	start := time.Now()
	flood(b, rdb, func(t string) string { return "raw:" + t }, names, n)
	rawRate := float64(n) / time.Since(start).Seconds()
	for _, name := range names {
		rdb.Del(context.Background(), "raw:"+name)
	}

	register(b, rdb, names...)
	e := startEngine(b, rdb, floodSettings(), func(o *Options) { o.ResultsMaxLen = 1000 })
	eventually(b, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	base := e.answered()
	b.ResetTimer()
	start = time.Now()
	flood(b, rdb, func(t string) string { return testMarket.Keys().Orders(t) }, names, n)
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
	b.ReportMetric(rate, "orders/s")
	b.ReportMetric(rawRate, "raw-xadd/s")
	b.ReportMetric(100*rate/rawRate, "%-of-raw")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders, %d orders: %.0f orders/s end to end, raw pipelined XADD %.0f/s (%.1f %%)",
		len(names), n, rate, rawRate, 100*rate/rawRate)
}

// BenchmarkEngineLatency offers 10,000 orders per second from many traders and reports the
// p50 and p99 time from writing an order to reading its result.
func BenchmarkEngineLatency(b *testing.B) {
	_, rdb := newRedis(b)
	rdb.Options().PoolSize = 4 * *benchTraders
	names := benchNames(*benchTraders)
	register(b, rdb, names...)
	e := startEngine(b, rdb, floodSettings())
	eventually(b, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	const rate, seconds = 10_000, 3
	total := rate * seconds

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One reader follows every trader's results, as the traders themselves would.
	var lat []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := map[string]string{}
		keys := make([]string, len(names))
		for i, name := range names {
			keys[i] = testMarket.Keys().Results(name)
			last[keys[i]] = "0"
		}
		for len(lat) < total && ctx.Err() == nil {
			args := append([]string(nil), keys...)
			for _, k := range keys {
				args = append(args, last[k])
			}
			res, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: args, Count: 10_000, Block: 100 * time.Millisecond}).Result()
			now := time.Now()
			if err != nil {
				continue
			}
			for _, st := range res {
				for _, m := range st.Messages {
					last[st.Stream] = m.ID
					id, _ := m.Values[protocol.FieldID].(string)
					_, sent, ok := strings.Cut(id, "-")
					if ns, err := strconv.ParseInt(sent, 10, 64); ok && err == nil {
						lat = append(lat, now.Sub(time.Unix(0, ns)))
					}
				}
			}
		}
	}()

	b.ResetTimer()
	// Every millisecond, ten traders in turn send one order each.
	tick := time.NewTicker(time.Millisecond)
	sent, next := 0, 0
	started := time.Now()
	p := rdb.Pipeline()
	for sent < total {
		<-tick.C
		due := min(int(time.Since(started).Seconds()*rate), total)
		for ; sent < due; sent++ {
			name := names[next%len(names)]
			next++
			o := benchOrder(sent, fmt.Sprintf("%d-%d", sent, time.Now().UnixNano()))
			p.XAdd(ctx, &redis.XAddArgs{Stream: testMarket.Keys().Orders(name), Values: protocol.AppendOrder(nil, o)})
		}
		if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.Fatalf("only %d of %d results arrived", len(lat), total)
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders at %d orders/s: p50 %v, p99 %v over %d orders", len(names), rate, p50, p99, len(lat))
}
