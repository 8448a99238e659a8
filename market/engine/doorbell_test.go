package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Once the room has Options.DoorbellStreams streams to read, a caught-up engine waits for
// orders on its doorbell, where it waited with XREAD BLOCK: none of its reads is blocked in
// Redis while it waits, and orders sent one at a time ring it. The doorbell breaks when
// Redis stays silent about an order the engine finds, so it still works after them.
func TestEngineWaitsOnItsDoorbell(t *testing.T) {
	_, rdb := newRedis(t, testredis.WithPassword("doorbell-secret"))
	register(t, rdb, "alice")
	e := startEngine(t, rdb, steadySettings(100*time.Millisecond), func(o *Options) { o.DoorbellStreams = 3 })
	testutil.Eventually(t, 10*time.Second, "the engine to lead, waiting with XREAD BLOCK", func() bool {
		return e.Leading() && redisInfo(t, rdb, "clients")["blocked_clients"] == "1"
	})
	if promtest.ToFloat64(e.metrics.doorbell) != 0 {
		t.Error("the engine opened its doorbell for 2 streams (alice's and the inbox), want 3")
	}
	register(t, rdb, "bob")
	testutil.Eventually(t, 10*time.Second, "the engine to wait on its doorbell", func() bool {
		return promtest.ToFloat64(e.metrics.doorbell) == 1
	})
	time.Sleep(100 * time.Millisecond) // the reader waits
	if n := redisInfo(t, rdb, "clients")["blocked_clients"]; n != "0" {
		t.Errorf("Redis has %s blocked clients while the engine waits for orders on its doorbell, want 0", n)
	}
	for i := range 5 {
		for _, name := range []string{"alice", "bob"} {
			id := name + itoa(i)
			send(t, rdb, name, rules.Order{ID: id, Kind: rules.KindFeed, Qty: 1})
			resultOf(t, rdb, name, id)
		}
	}
	if promtest.ToFloat64(e.metrics.doorbell) != 1 {
		t.Error("the doorbell broke: the engine found orders it did not ring for")
	}
	audit(t, rdb)
}

// An engine whose doorbell breaks, as Redis closes one of its two connections, goes back to
// waiting with XREAD BLOCK, and answers every order.
func TestEngineWithABrokenDoorbell(t *testing.T) {
	for _, tc := range []struct {
		conn string
		kill func(ctx context.Context, rdb *redis.Client) error
	}{
		{"the subscription's", func(ctx context.Context, rdb *redis.Client) error {
			return rdb.Do(ctx, "client", "kill", "type", "pubsub").Err()
		}},
		{"the tracking", func(ctx context.Context, rdb *redis.Client) error {
			list, err := rdb.ClientList(ctx).Result()
			if err != nil {
				return err
			}
			for _, line := range strings.Split(list, "\n") {
				if f := clientFields(line); strings.Contains(f["flags"], "t") {
					return rdb.Do(ctx, "client", "kill", "id", f["id"]).Err()
				}
			}
			return fmt.Errorf("no tracking client in CLIENT LIST:\n%s", list)
		}},
	} {
		t.Run(tc.conn, func(t *testing.T) {
			ctx := context.Background()
			_, rdb := newRedis(t)
			register(t, rdb, "alice")
			e := startEngine(t, rdb, steadySettings(time.Hour), func(o *Options) { o.DoorbellStreams = 1 })
			testutil.Eventually(t, 10*time.Second, "the engine to lead, waiting on its doorbell", func() bool {
				return e.Leading() && promtest.ToFloat64(e.metrics.doorbell) == 1
			})
			send(t, rdb, "alice", rules.Order{ID: "before", Kind: rules.KindFeed, Qty: 1})
			resultOf(t, rdb, "alice", "before")

			if err := tc.kill(ctx, rdb); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				send(t, rdb, "alice", rules.Order{ID: "after" + itoa(i), Kind: rules.KindFeed, Qty: 1})
				resultOf(t, rdb, "alice", "after"+itoa(i))
			}
			testutil.Eventually(t, 10*time.Second, "the engine to stop using its doorbell", func() bool {
				return promtest.ToFloat64(e.metrics.doorbell) == 0
			})
			testutil.Eventually(t, 10*time.Second, "the engine to wait with XREAD BLOCK", func() bool {
				return redisInfo(t, rdb, "clients")["blocked_clients"] == "1"
			})
			send(t, rdb, "alice", rules.Order{ID: "last", Kind: rules.KindFeed, Qty: 1})
			resultOf(t, rdb, "alice", "last")
			audit(t, rdb)
		})
	}
}

// A Redis that refuses key tracking (here by its ACL, as a managed one may) leaves the
// engine waiting with XREAD BLOCK.
func TestEngineOnARedisWithoutTracking(t *testing.T) {
	ctx := context.Background()
	srv, rdb := newRedis(t)
	if err := rdb.Do(ctx, "acl", "setuser", "engine", "on", ">engine-secret", "~*", "allchannels", "+@all", "-client|tracking").Err(); err != nil {
		t.Fatal(err)
	}
	erdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "engine", Password: "engine-secret"})
	t.Cleanup(func() { erdb.Close() })
	register(t, rdb, "alice")
	e := startEngine(t, erdb, steadySettings(time.Hour), func(o *Options) { o.DoorbellStreams = 1 })
	testutil.Eventually(t, 10*time.Second, "the engine to lead", func() bool { return e.Leading() })
	testutil.Eventually(t, 10*time.Second, "the engine to wait with XREAD BLOCK", func() bool {
		return redisInfo(t, rdb, "clients")["blocked_clients"] == "1"
	})
	if promtest.ToFloat64(e.metrics.doorbell) != 0 {
		t.Error("the doorbell gauge says 1 on a Redis that refuses CLIENT TRACKING")
	}
	send(t, rdb, "alice", rules.Order{ID: "o1", Kind: rules.KindFeed, Qty: 1})
	resultOf(t, rdb, "alice", "o1")
}

// clientFields are the fields of a line of CLIENT LIST, as name: value.
func clientFields(line string) map[string]string {
	f := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	return f
}
