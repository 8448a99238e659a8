package engine

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

func TestOnlyOneEngineAppliesOrdersAndTheOtherTakesOver(t *testing.T) {
	srv, rdb := newRedis(t)
	register(t, rdb, "alice")
	clientA := srv.Client()
	a := startEngine(t, clientA, steadySettings(30*time.Millisecond), func(o *Options) { o.Owner = "engine-a" })
	testutil.Eventually(t, 10*time.Second, "engine a to lead", a.Leading)
	b := startEngine(t, srv.Client(), steadySettings(30*time.Millisecond), func(o *Options) { o.Owner = "engine-b" })

	for i := range 20 {
		send(t, rdb, "alice", rules.Order{ID: fmt.Sprintf("o%d", i), Kind: rules.KindFeed, Qty: 0})
		if b.Leading() {
			t.Fatal("engine b leads while engine a holds the lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resultOf(t, rdb, "alice", "o19")
	if n := promtest.ToFloat64(b.metrics.ticks); n != 0 {
		t.Errorf("engine b published %v ticks while waiting", n)
	}

	// Engine a dies without giving the lease back: its connection to Redis is gone.
	clientA.Close()
	testutil.Eventually(t, 10*time.Second, "engine b to take over", b.Leading)
	tick := lastTick(t, rdb).Seq
	testutil.Eventually(t, 10*time.Second, "engine b to tick", func() bool { return lastTick(t, rdb).Seq > tick })
	send(t, rdb, "alice", rules.Order{ID: "after", Kind: rules.KindFeed, Qty: 1})
	if r := resultOf(t, rdb, "alice", "after"); r.Status != rules.StatusAccepted || r.Account.Fed != 1 {
		t.Errorf("order after the takeover: %+v", r)
	}
	for i := range 20 {
		if n := len(resultsFor(t, rdb, "alice", fmt.Sprintf("o%d", i), 1)); n != 1 {
			t.Errorf("order o%d has %d results", i, n)
		}
	}
	b.stop(t)
	audit(t, rdb)
}

func TestEngineCarriesOnAfterRedisRestarts(t *testing.T) {
	srv, rdb := newRedis(t, testredis.WithAppendOnly())
	register(t, rdb, "alice")
	e := startEngine(t, srv.Client(), steadySettings(30*time.Millisecond))
	send(t, rdb, "alice", rules.Order{ID: "before", Kind: rules.KindBuy, Qty: 1})
	resultOf(t, rdb, "alice", "before")

	srv.Kill()
	time.Sleep(100 * time.Millisecond) // the engine notices Redis is gone
	srv.Restart()

	send(t, rdb, "alice", rules.Order{ID: "after", Kind: rules.KindBuy, Qty: 1})
	r := resultOf(t, rdb, "alice", "after")
	if r.Status != rules.StatusAccepted || r.Account.Shares != 7 || r.Account.Coins != coins("8") {
		t.Errorf("order after the restart: %+v", r)
	}
	tick := lastTick(t, rdb).Seq
	testutil.Eventually(t, 10*time.Second, "ticks after the restart", func() bool { return lastTick(t, rdb).Seq > tick })
	if !e.Leading() {
		t.Error("engine is not leading after Redis came back")
	}
	e.stop(t)
	audit(t, rdb)
	if _, err := rdb.Ping(context.Background()).Result(); err != nil {
		t.Fatal(err)
	}
}

func TestRestartedEngineReadsOnAfterWhatItWrote(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	register(t, rdb, "alice")
	e := startEngine(t, rdb, steadySettings(30*time.Millisecond))
	send(t, rdb, "alice", rules.Order{ID: "first", Kind: rules.KindFeed, Qty: 1})
	resultOf(t, rdb, "alice", "first")
	e.stop(t)

	// While no engine runs: a new order, and the first one again (a trader's retry).
	send(t, rdb, "alice", rules.Order{ID: "second", Kind: rules.KindFeed, Qty: 1})
	last := sendRaw(t, rdb, "alice", protocol.AppendOrder(nil, rules.Order{ID: "first", Kind: rules.KindFeed, Qty: 1})...)
	e = startEngine(t, rdb, steadySettings(30*time.Millisecond))
	first := resultsFor(t, rdb, "alice", "first", 2)
	if first[0].Account.Fed != 1 || first[1] != withEntry(first[0], first[1].EntryID) {
		t.Errorf("the retried order got %+v, want its first result %+v again", first[1], first[0])
	}
	if r := resultOf(t, rdb, "alice", "second"); r.Account.Fed != 2 {
		t.Errorf("the order sent while no engine ran: %+v, want 2 monkeys fed in all", r)
	}
	e.stop(t)
	if n := len(results(t, rdb, "alice")); n != 3 {
		t.Errorf("alice has %d results, want 3: one per order", n)
	}
	cursor, err := rdb.HGet(ctx, testMarket.Keys().Cursors(), testMarket.Keys().Orders("alice")).Result()
	if err != nil || cursor != last {
		t.Errorf("alice's cursor is %q (%v), want the entry id of her last order %q", cursor, err, last)
	}
	audit(t, rdb)
}

func withEntry(r protocol.Result, id string) protocol.Result {
	r.EntryID = id
	return r
}

func TestEngineThatLostTheLeaseLeadsAgainOnceItIsFree(t *testing.T) {
	_, rdb := newRedis(t)
	register(t, rdb, "alice")
	e := startEngine(t, rdb, steadySettings(30*time.Millisecond))
	send(t, rdb, "alice", rules.Order{ID: "before", Kind: rules.KindFeed, Qty: 1})
	resultOf(t, rdb, "alice", "before")

	// Another engine takes the lease (as after a pause longer than the lease) and gives it
	// up again; this engine must take it back and carry on with the same Redis client.
	ctx := context.Background()
	lease := testMarket.Keys().Lease()
	if err := rdb.Set(ctx, lease, "999:another-engine", 0).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the engine to notice the lost lease", func() bool { return !e.Leading() })
	if err := rdb.Del(ctx, lease).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the engine to lead again", e.Leading)
	send(t, rdb, "alice", rules.Order{ID: "after", Kind: rules.KindFeed, Qty: 1})
	if r := resultOf(t, rdb, "alice", "after"); r.Status != rules.StatusAccepted || r.Account.Fed != 2 {
		t.Errorf("order after leading again: %+v", r)
	}
	// Each take of the lease counts one up: a second take is the only one after the first.
	if fence, _ := rdb.HGet(ctx, testMarket.Keys().State(), "fence").Int64(); fence != 2 {
		t.Errorf("the engine took the lease %d times, want 2: it keeps losing the lease it holds", fence)
	}
}

// A Redis at its maxmemory (the chart sets one) refuses every write with an OOM error: the
// engine's transactions are refused whole, so an order it read then is neither applied nor
// answered, and it is answered once, with nothing else lost, when Redis has room again.
func TestEngineWaitsOutAFullRedis(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	register(t, rdb, "alice")
	var log testutil.SyncBuffer
	e := startEngine(t, rdb, steadySettings(30*time.Millisecond), func(o *Options) { o.Log = slog.New(slog.NewTextHandler(&log, nil)) })
	send(t, rdb, "alice", rules.Order{ID: "before", Kind: rules.KindFeed, Qty: 1})
	resultOf(t, rdb, "alice", "before")

	// The order and the full Redis in one transaction: the engine reads the order only once
	// Redis refuses writes.
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: testMarket.Keys().Orders("alice"),
			Values: protocol.AppendOrder(nil, rules.Order{ID: "while-full", Kind: rules.KindFeed, Qty: 1})})
		p.ConfigSet(ctx, "maxmemory", "1")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: testMarket.Keys().Orders("alice"), Values: []any{"x", "y"}}).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("Redis took a write at its maxmemory (%v): the test cannot fill it", err)
	}
	tick := lastTick(t, rdb).Seq
	time.Sleep(time.Second) // a lease's time: the engine tries again and again meanwhile
	if n := len(results(t, rdb, "alice")); n != 1 {
		t.Fatalf("alice has %d results while Redis was full, want 1 (the order before)", n)
	}
	select {
	case <-e.done:
		t.Fatal("the engine stopped while Redis was full")
	default:
	}
	if !regexp.MustCompile(`write batch to Redis: it refused \w+: OOM command not allowed`).MatchString(log.String()) {
		t.Errorf("the engine's log does not say that Redis refused its batch for want of memory:\n%s", log.String())
	}

	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, rdb, "alice", "while-full"); r.Status != rules.StatusAccepted || r.Account.Fed != 2 {
		t.Errorf("the order read while Redis was full: %+v, want accepted with 2 monkeys fed in all", r)
	}
	testutil.Eventually(t, 10*time.Second, "ticks once Redis has room", func() bool { return lastTick(t, rdb).Seq > tick })
	e.stop(t)
	if n := len(results(t, rdb, "alice")); n != 2 {
		t.Errorf("alice has %d results, want 2: one per order", n)
	}
	audit(t, rdb)
}
