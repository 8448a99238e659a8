package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	"github.com/monkonomy/monkonomy/internal/testutil"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// benchTraders is how many simulated traders flood the engine (flag -traders or env
// MONKONOMY_BENCH_TRADERS).
var benchTraders = flag.Int("traders", envInt("MONKONOMY_BENCH_TRADERS", 100), "simulated traders of the engine benchmarks")

// benchRate is the load BenchmarkEngineLatency offers, in orders per second (flag -rate or
// env MONKONOMY_BENCH_RATE): the targets are for 10,000; other loads show how latency grows
// with load on a given machine.
var benchRate = flag.Int("rate", envInt("MONKONOMY_BENCH_RATE", 10_000), "orders per second offered by BenchmarkEngineLatency")

// benchEngine is a build of monkonomy to benchmark instead of this tree's (flag -engine or
// env MONKONOMY_BENCH_ENGINE): on a shared machine, two builds compare best run by turns.
var benchEngine = flag.String("engine", os.Getenv("MONKONOMY_BENCH_ENGINE"), "monkonomy binary the engine benchmarks run (default: built from this tree)")

// monkonomy is the binary whose engine the benchmarks run.
func monkonomy(b *testing.B) string {
	if *benchEngine != "" {
		if _, err := os.Stat(*benchEngine); err != nil {
			b.Fatalf("-engine: %v", err)
		}
		return *benchEngine
	}
	return buildMonkonomy(b)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// floodSettings let every trader send as many orders as it likes, with coins for every
// buy.
func floodSettings() protocol.Settings {
	s := steadySettings(time.Second)
	s.Rules.InitialCoins = "1000000"
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
	for name, v := range redisInfo(b, rdb, "cpu") {
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			sec, _ := strconv.ParseFloat(v, 64)
			u.redis += time.Duration(sec * float64(time.Second))
		}
	}
	return u
}

// reportCPU reports the CPU time per order since start, of Redis and of this process (the
// simulated traders that follow their results, or the benchmark waiting for the engine).
func reportCPU(b *testing.B, rdb *redis.Client, start cpuUse, orders int) {
	end := cpuNow(b, rdb)
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(orders) }
	b.ReportMetric(per(end.redis-start.redis), "redis-cpu-µs/order")
	b.ReportMetric(per(end.process-start.process), "go-cpu-µs/order")
}

// The flood is appended by redis-benchmark, Redis's own load generator, as the traders of a
// tournament are processes of their own: floodWriters of them, one per order kind below,
// each one connection writing pipelines of floodDepth XADDs to the streams of random
// traders. The raw rate is the same tool appending the same entries to streams nobody
// reads.
const floodWriters, floodDepth = 4, 500

// floodOrders is how many orders BenchmarkEngineThroughput floods the engine with: about
// six seconds of it on a 2-core machine. What happens once in a run (the engine reading
// each trader's latest results as their first orders arrive) and the backlog it still has
// when the last order is written then weigh little in the rate, as in a tournament's hours.
// With 200,000 orders (about a second) they weighed more, and the rate varied much more
// from run to run.
const floodOrders = 1_000_000

// floodKinds are the orders of each writer: buys, sells and feeds that are mostly accepted.
var floodKinds = [floodWriters]string{"buy", "sell", "buy", "feed"}

// traderNames are the simulated traders' names: the names redis-benchmark gives its random
// keys, where __rand_int__ becomes a 12-digit number below the key space.
func traderNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%012d", i)
	}
	return names
}

// flood appends n orders to the streams prefix+<trader> of the given number of traders and
// returns when redis-benchmark has written them all.
func flood(b *testing.B, srv *testredis.Server, prefix string, traders, n int) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		b.Fatal("redis-benchmark is needed by this benchmark: run `make setup` or `apt-get install -y redis-tools`")
	}
	host, port, _ := strings.Cut(srv.Addr, ":")
	var wg sync.WaitGroup
	for w, kind := range floodKinds {
		count := (n - w + floodWriters - 1) / floodWriters
		args := []string{"-h", host, "-p", port, "-c", "1", "-P", strconv.Itoa(floodDepth), "-n", strconv.Itoa(count),
			"-r", strconv.Itoa(traders), "-e", "-q"}
		if srv.Password != "" {
			args = append(args, "-a", srv.Password)
		}
		args = append(args, "XADD", prefix+"__rand_int__", "*", protocol.FieldVersion, protocol.Version,
			protocol.FieldKind, kind, protocol.FieldQty, "1")
		wg.Go(func() {
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil || strings.Contains(string(out), "ERR") {
				b.Errorf("redis-benchmark %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	wg.Wait()
}

// BenchmarkEngineThroughput floods the engine with orders from many traders through a real
// redis-server and reports orders per second end to end (first order written → the batch
// with the last one written), next to the rate of raw pipelined XADDs of the same entries
// on the same server. The engine runs as it does in a tournament: `monkonomy engine`, a
// process of its own.
func BenchmarkEngineThroughput(b *testing.B) {
	bin := monkonomy(b)
	srv, rdb := newRedis(b)
	ctx := context.Background()
	names := traderNames(*benchTraders)
	n := max(b.N, floodOrders)

	// Raw XADD: the same entries, the same pipelines, into streams nobody reads, before
	// and after the engine's run: the machine's speed drifts.
	raw := func() (rate float64, redisCPU time.Duration) {
		before := cpuNow(b, rdb)
		start := time.Now()
		flood(b, srv, "raw:", len(names), n)
		rate = float64(n) / time.Since(start).Seconds()
		redisCPU = cpuNow(b, rdb).redis - before.redis
		written := int64(0)
		for _, name := range names {
			written += rdb.XLen(ctx, "raw:"+name).Val()
			rdb.Del(ctx, "raw:"+name)
		}
		if written != int64(n) {
			b.Fatalf("redis-benchmark appended %d entries, want %d", written, n)
		}
		return rate, redisCPU
	}
	rawBefore, rawCPU := raw()

	register(b, rdb, names...)
	memBefore := usedMemory(b, rdb)
	engine := startEngineProcess(b, bin, srv, rdb, floodSettings())
	b.ResetTimer()
	stats := commandStats(b, rdb, "the engine")
	cpu, used := cpuNow(b, rdb), engine.usage(b, rdb)
	start := time.Now()
	k := testMarket.Keys()
	flood(b, srv, k.Orders(""), len(names), n)
	// The engine has answered every order when its cursor of every stream is the stream's
	// last entry: the cursors move in the transaction that writes the results.
	last := make(map[string]string, len(names))
	for _, name := range names {
		msgs, err := rdb.XRevRangeN(ctx, k.Orders(name), "+", "-", 1).Result()
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) > 0 {
			last[k.Orders(name)] = msgs[0].ID
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cursors, err := rdb.HGetAll(ctx, k.Cursors()).Result()
		if err != nil {
			b.Fatal(err)
		}
		behind := 0
		for stream, id := range last {
			if cursors[stream] != id {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 2 minutes the engine has not answered every order of %d of %d traders", behind, len(last))
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(n) / elapsed.Seconds()
	reportCPU(b, rdb, cpu, n)
	stats(n)
	engine.report(b, rdb, used, n)
	reportRedisMemory(b, rdb, memBefore, names, n)
	rawAfter, _ := raw()
	rawRate := (rawBefore + rawAfter) / 2
	b.ReportMetric(float64(rawCPU.Nanoseconds())/1000/float64(n), "raw-redis-cpu-µs/xadd")
	b.ReportMetric(rate, "orders/s")
	b.ReportMetric(rawRate, "raw-xadd/s")
	b.ReportMetric(100*rate/rawRate, "%-of-raw")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders, %d orders: %.0f orders/s end to end, raw pipelined XADD %.0f/s (%.0f before, %.0f after): %.1f %%",
		len(names), n, rate, rawRate, rawBefore, rawAfter, 100*rate/rawRate)
}

// usedMemory is the memory Redis has allocated, in bytes.
func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	v, err := strconv.ParseInt(redisInfo(b, rdb, "memory")["used_memory"], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// reportRedisMemory reports how much Redis's memory grew per order since before, and what
// holds it: the journal keeps every applied event, and grows with every order; each
// trader's orders and results streams keep its latest orders and results.
func reportRedisMemory(b *testing.B, rdb *redis.Client, before int64, names []string, orders int) {
	ctx := context.Background()
	k := testMarket.Keys()
	usage := func(keys ...string) int64 {
		var sum int64
		for _, key := range keys {
			n, err := rdb.MemoryUsage(ctx, key, 0).Result()
			if err != nil {
				b.Fatal(err)
			}
			sum += n
		}
		return sum
	}
	var ordersKeys, resultsKeys []string
	for _, name := range names {
		ordersKeys, resultsKeys = append(ordersKeys, k.Orders(name)), append(resultsKeys, k.Results(name))
	}
	per := func(n int64) float64 { return float64(n) / float64(orders) }
	grown, journal := usedMemory(b, rdb)-before, usage(k.Journal())
	b.ReportMetric(per(grown), "redis-B/order")
	b.ReportMetric(per(journal), "journal-B/order")
	b.Logf("Redis's memory grew by %.0f bytes per order: the journal %.0f bytes per order; the orders streams %.1f MiB, the results streams %.1f MiB (the latest orders and results of %d traders)",
		per(grown), per(journal), float64(usage(ordersKeys...))/(1<<20), float64(usage(resultsKeys...))/(1<<20), len(names))
}

// BenchmarkEngineLatency offers 10,000 orders per second (-rate) from many traders and
// reports the p50 and p99 time from appending an order to its trader reading the result.
// The engine runs as it does in a tournament: `monkonomy engine`, a process of its own.
//
// The simulated traders read their results in two ways, a sub-benchmark each, on a Redis
// and an engine of its own:
//   - readers=1: one connection follows every trader's results stream with one blocking
//     XREAD, as a process of many bots could. The traders' reading then costs this
//     machine least, as bots on machines of their own would: on two CPUs shared with
//     Redis and the engine, what the load costs slows what it measures;
//   - readers=N (N the traders): every trader follows its own results stream on a
//     connection of its own, as a tournament's bots do. That costs Redis a wake-up and a
//     reply per trader answered, and this process a goroutine woken for each.
//
// Before the engine starts, the same load goes through Redis alone: every trader follows
// its own orders, read the same way, so an order passes through Redis once, where the
// engine's answer passes through it twice. That is what this machine and Redis give at
// this load, in the same run.
//
// Each load is measured after a warm-up of half a second at the same rate, whose figures
// are logged on their own: the first orders of a run meet what happens once, the load's
// connections being opened and the engine reading each trader's latest results.
func BenchmarkEngineLatency(b *testing.B) {
	bin := monkonomy(b)
	for _, readers := range slices.Compact([]int{1, *benchTraders}) {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) { engineLatency(b, bin, readers) })
	}
}

// engineLatency is BenchmarkEngineLatency with the traders' results read on the given
// number of connections.
func engineLatency(b *testing.B, bin string, readers int) {
	srv, rdb := newRedis(b)
	load := loadClient(b, srv)
	names := traderNames(*benchTraders)
	l := loadShape{traders: len(names), readers: readers, rate: *benchRate, warm: *benchRate / 2, total: 3 * *benchRate}
	k := testMarket.Keys()

	rawKeys := make([]string, len(names))
	for i, name := range names {
		rawKeys[i] = "raw:" + k.Orders(name)
	}
	var rawStats func(int)
	raw := offer(b, load, l, func(i int) (string, string) { return rawKeys[i], rawKeys[i] }, func() {
		rawStats = commandStats(b, rdb, "Redis alone")
	})
	rawStats(l.total)
	if err := rdb.Del(context.Background(), rawKeys...).Err(); err != nil {
		b.Fatal(err)
	}

	register(b, rdb, names...)
	memBefore := usedMemory(b, rdb)
	engine := startEngineProcess(b, bin, srv, rdb, floodSettings())
	var (
		stats func(int)
		cpu   cpuUse
		used  engineUsage
	)
	got := offer(b, load, l, func(i int) (string, string) { return k.Orders(names[i]), k.Results(names[i]) }, func() {
		b.ResetTimer()
		stats = commandStats(b, rdb, "the engine")
		cpu, used = cpuNow(b, load), engine.usage(b, rdb)
	})
	b.StopTimer()
	reportCPU(b, load, cpu, l.total)
	stats(l.total)
	engine.report(b, rdb, used, l.total)
	reportRedisMemory(b, rdb, memBefore, names, l.warm+l.total)

	lat := slices.Concat(got.lats...)
	p50, p99 := percentiles(lat)
	w50, w99 := percentiles(slices.Concat(got.written...))
	r50, r99 := percentiles(slices.Concat(raw.lats...))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(w50), "written-p50-ms")
	b.ReportMetric(ms(w99), "written-p99-ms")
	b.ReportMetric(ms(r50), "redis-alone-p50-ms")
	b.ReportMetric(ms(r99), "redis-alone-p99-ms")
	// On a shared machine both move together: their ratio much less than either.
	b.ReportMetric(float64(p50)/float64(r50), "p50-x-redis-alone")
	b.ReportMetric(float64(p99)/float64(r99), "p99-x-redis-alone")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d traders at %d orders/s, their answers read on %d connections: p50 %v, p99 %v over %d orders (the result appended by Redis: p50 %v, p99 %v, in milliseconds of the clock from the one the order was sent in); the same load through Redis alone, an order read by its trader: p50 %v, p99 %v",
		len(names), l.rate, l.readers, p50, p99, len(lat), w50, w99, r50, r99)
	b.Logf("over 3 ms: %s; through Redis alone: %s", got.late(3*time.Millisecond), raw.late(3*time.Millisecond))
	wp50, wp99 := percentiles(slices.Concat(got.warm...))
	wr50, wr99 := percentiles(slices.Concat(raw.warm...))
	b.Logf("the warm-up's %d orders before them, not counted above: p50 %v, p99 %v; through Redis alone: p50 %v, p99 %v",
		l.warm, wp50, wp99, wr50, wr99)
}

// loadShape is a load offer sends: warm orders, then total orders measured, at rate orders
// per second, from traders traders whose answers are read on readers connections.
type loadShape struct{ traders, readers, rate, warm, total int }

// latencies are what the traders of offer measured, one slice per trader.
type latencies struct {
	lats    [][]time.Duration // from sending an order to reading its answer
	sentAt  [][]int64         // when each order of lats was sent, in ns
	written [][]time.Duration // from sending an order to Redis appending its answer, in whole milliseconds of the clock
	warm    [][]time.Duration // lats of the warm-up's orders
}

// offer sends the orders of a load, each to the orders stream of the next of the traders
// in turn, and returns once every trader has read the answers to its orders from its
// answers stream. Each of the load's readers follows the answers streams of its share of
// the traders with one blocking XREAD. An answer is an entry whose id field
// is its order's: the order itself, or the engine's result of it. The streams of the i-th
// trader are streams(i). It calls measure as it sends the first order measured, after the
// warm-up.
func offer(b *testing.B, load *redis.Client, shape loadShape, streams func(i int) (orders, answers string), measure func()) *latencies {
	ctx, cancel := context.WithCancel(context.Background())
	var received atomic.Int64
	all := make(chan struct{})
	traders, total := shape.traders, shape.warm+shape.total
	l := &latencies{lats: make([][]time.Duration, traders), sentAt: make([][]int64, traders),
		written: make([][]time.Duration, traders), warm: make([][]time.Duration, traders)}
	var receivers sync.WaitGroup
	// The receivers stop before the caller reads what they measured.
	defer receivers.Wait()
	defer cancel()
	for r := range shape.readers {
		// The r-th reader follows the answers of every readers-th trader from r on.
		// Its k-th stream is trader r + k*readers's; last holds the id it read last in each.
		var keys, last []string
		pos := map[string]int{} // answers stream → k
		for i := r; i < traders; i += shape.readers {
			_, key := streams(i)
			pos[key] = len(keys)
			keys, last = append(keys, key), append(last, "0")
		}
		receivers.Go(func() {
			for ctx.Err() == nil {
				res, err := load.XRead(ctx, &redis.XReadArgs{Streams: slices.Concat(keys, last), Count: 1000, Block: 200 * time.Millisecond}).Result()
				now := time.Now()
				if err != nil {
					continue
				}
				for _, st := range res {
					k := pos[st.Stream]
					i := r + k*shape.readers
					for _, m := range st.Messages {
						last[k] = m.ID
						id, _ := m.Values[protocol.FieldID].(string)
						seq, sent, ok := strings.Cut(id, "-")
						ns, err := strconv.ParseInt(sent, 10, 64)
						if !ok || err != nil {
							continue
						}
						if n, _ := strconv.Atoi(seq); n < shape.warm {
							l.warm[i] = append(l.warm[i], now.Sub(time.Unix(0, ns)))
						} else {
							l.lats[i] = append(l.lats[i], now.Sub(time.Unix(0, ns)))
							l.sentAt[i] = append(l.sentAt[i], ns)
							// The entry id holds the millisecond Redis appended it in: subtracted from
							// the time the order was sent, it would read up to a millisecond short,
							// and less than nothing for a fast answer.
							l.written[i] = append(l.written[i], time.Duration(entryMs(m.ID)-ns/1e6)*time.Millisecond)
						}
					}
					// Only the receiver whose answers reach the total closes all.
					n := int64(len(st.Messages))
					if got := received.Add(n); got >= int64(total) && got-n < int64(total) {
						close(all)
					}
				}
			}
		})
	}
	// Every millisecond, the orders due by then go out in one pipeline, each to the next
	// trader in turn, stamped with the time they are written.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	sent := 0
	started := time.Now()
	p := load.Pipeline()
	for sent < total {
		<-tick.C
		due := min(int(time.Since(started).Seconds()*float64(shape.rate)), total)
		if sent <= shape.warm && shape.warm < due {
			measure()
		}
		now := time.Now().UnixNano()
		for ; sent < due; sent++ {
			orders, _ := streams(sent % traders)
			o := benchOrder(sent/traders, fmt.Sprintf("%d-%d", sent, now))
			p.XAdd(ctx, &redis.XAddArgs{Stream: orders, Values: protocol.AppendOrder(nil, o)})
		}
		if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		b.Fatalf("only %d of %d answers arrived in 30s", received.Load(), total)
	}
	return l
}

// late says how many orders took over limit, and which share of them came in bursts (a
// stall or a backlog of the engine, Redis or the machine) rather than one by one.
func (l *latencies) late(limit time.Duration) string {
	lat := slices.Concat(l.lats...)
	n, inStalls := stalls(slices.Concat(l.sentAt...), lat, limit, 10*time.Millisecond)
	return fmt.Sprintf("%d orders (%.2f %%), %.0f %% of them in 10-ms windows in which most orders were late",
		n, 100*float64(n)/float64(len(lat)), 100*inStalls)
}

// stalls counts the orders whose latency is over limit, and tells which share of them
// were sent in a window of the given length in which most orders were that late.
func stalls(sent []int64, lat []time.Duration, limit, window time.Duration) (late int, inStalls float64) {
	type count struct{ all, late int }
	windows := map[int64]count{}
	for i, ns := range sent {
		w := windows[ns/int64(window)]
		w.all++
		if lat[i] > limit {
			w.late++
			late++
		}
		windows[ns/int64(window)] = w
	}
	if late == 0 {
		return 0, 0
	}
	stalled := 0
	for _, w := range windows {
		if 2*w.late > w.all {
			stalled += w.late
		}
	}
	return late, float64(stalled) / float64(late)
}

// commandStats resets Redis's statistics of its commands, and returns a function that logs
// what each command cost per order since (of what, a few words): calls, and Redis's CPU
// time in them. The benchmarks' figures say how fast; these say where Redis's part of the
// time goes.
func commandStats(b *testing.B, rdb *redis.Client, of string) func(orders int) {
	if err := rdb.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	return func(orders int) {
		stats := redisCommands(b, rdb)
		total := 0.0
		for _, st := range stats {
			// EXEC's time holds that of the commands of its transaction.
			if st.name != "exec" {
				total += st.usec
			}
		}
		slices.SortFunc(stats, func(a, b commandStat) int { return cmp.Compare(b.usec, a.usec) })
		var sb strings.Builder
		fmt.Fprintf(&sb, "Redis's time in commands per order (%s): %.2f µs", of, total/float64(orders))
		for _, st := range stats {
			fmt.Fprintf(&sb, "; %s %.2f calls %.2f µs", st.name, st.calls/float64(orders), st.usec/float64(orders))
		}
		sb.WriteString(" (exec: with the commands inside it)")
		b.Log(sb.String())
	}
}

// percentiles sorts d and returns its p50 and p99 (none of nothing: a load of fewer than
// two orders a second has no warm-up).
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

// engineProcess is `monkonomy engine` running in a process of its own.
type engineProcess struct{ cmd *exec.Cmd }

// startEngineProcess runs `monkonomy engine` on the test market until the benchmark ends,
// and returns once it leads: its first batch wrote the market's state.
func startEngineProcess(b *testing.B, bin string, srv *testredis.Server, rdb *redis.Client, settings protocol.Settings) *engineProcess {
	cfg := filepath.Join(b.TempDir(), "market.json")
	data, err := json.Marshal(settings)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		b.Fatal(err)
	}
	var logs strings.Builder
	cmd := exec.Command(bin, "engine", "--redis", srv.URL(), "--market", testMarket.String(), "--config", cfg, "--http", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Errorf("monkonomy engine: %v\n%s", err, logs.String())
		}
	})
	testutil.Eventually(b, 10*time.Second, "the engine to lead", func() bool {
		// The state hash exists as soon as an engine takes the lease (its fence counter);
		// the batch count once the first batch is written.
		return rdb.HExists(context.Background(), testMarket.Keys().State(), stateBatch).Val()
	})
	return &engineProcess{cmd: cmd}
}

// engineUsage is what the engine has used so far: CPU time, and batches written (each
// has its journal entry, counted in the state hash).
type engineUsage struct {
	cpu     time.Duration
	batches int64
}

func (p *engineProcess) usage(b *testing.B, rdb *redis.Client) engineUsage {
	proc, err := testutil.ProcStat(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	n, err := rdb.HGet(context.Background(), testMarket.Keys().State(), stateBatch).Int64()
	if err != nil {
		b.Fatalf("read the engine's batch count: %v", err)
	}
	return engineUsage{cpu: proc.CPU, batches: n}
}

// report reports the engine's CPU time per order and per batch since start, orders per
// batch, and the most memory the engine has held in RAM.
func (p *engineProcess) report(b *testing.B, rdb *redis.Client, start engineUsage, orders int) {
	end := p.usage(b, rdb)
	used := float64((end.cpu - start.cpu).Nanoseconds()) / 1000
	b.ReportMetric(used/float64(orders), "engine-cpu-µs/order")
	if n := end.batches - start.batches; n > 0 {
		b.ReportMetric(used/float64(n), "engine-cpu-µs/batch")
		b.ReportMetric(float64(orders)/float64(n), "orders/batch")
	}
	peak, err := testutil.ProcMemory(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(peak, "engine-peak-MiB")
}
