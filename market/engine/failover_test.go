package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/market/rules"
)

func TestOnlyOneEngineAppliesOrdersAndTheOtherTakesOver(t *testing.T) {
	srv, rdb := newRedis(t)
	register(t, rdb, "alice")
	clientA := srv.Client()
	a := startEngine(t, clientA, steadySettings(30*time.Millisecond), func(o *Options) { o.Owner = "engine-a" })
	eventually(t, "engine a to lead", a.Leading)
	b := startEngine(t, srv.Client(), steadySettings(30*time.Millisecond), func(o *Options) { o.Owner = "engine-b" })

	for i := range 20 {
		send(t, rdb, "alice", rules.Order{ID: fmt.Sprintf("o%d", i), Kind: rules.KindFeed, Qty: 0})
		if b.Leading() {
			t.Fatal("engine b leads while engine a holds the lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resultOf(t, rdb, "alice", "o19")
	if n := testCount(b.metrics.ticks); n != 0 {
		t.Errorf("engine b published %v ticks while waiting", n)
	}

	// Engine a dies without giving the lease back: its connection to Redis is gone.
	clientA.Close()
	eventually(t, "engine b to take over", b.Leading)
	tick := lastTick(t, rdb).Seq
	eventually(t, "engine b to tick", func() bool { return lastTick(t, rdb).Seq > tick })
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
	eventually(t, "ticks after the restart", func() bool { return lastTick(t, rdb).Seq > tick })
	if !e.Leading() {
		t.Error("engine is not leading after Redis came back")
	}
	e.stop(t)
	audit(t, rdb)
	if _, err := rdb.Ping(context.Background()).Result(); err != nil {
		t.Fatal(err)
	}
}
