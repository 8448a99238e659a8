package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/rules"
)

func TestMalformedInputIsAnsweredAndNeverStopsTheEngine(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	k := testMarket.Keys()
	register(t, rdb, "alice")
	rdb.HSet(ctx, k.Traders(), "Bad Name!", "{}", "mallory", "not json")
	e := startEngine(t, rdb, steadySettings(30*time.Millisecond))

	huge := strings.Repeat("banana ", 150_000) // about 1 MiB
	entries := map[string][]any{
		"huge":     {"id", "huge", "kind", "gibb", "text", huge},
		"binary":   {"id", "binary", "kind", "\x00\x01\xff", "qty", "\xfe"},
		"manyflds": {"id", "manyflds", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7", "h", "8"},
		"bigqty":   {"id", "bigqty", "kind", "buy", "qty", strings.Repeat("9", 100)},
		"nokind":   {"id", "nokind"},
	}
	for _, v := range entries {
		sendRaw(t, rdb, "alice", v...)
	}
	badID := sendRaw(t, rdb, "alice", "id", "not a valid id!", "kind", "buy", "qty", "1")
	sendRaw(t, rdb, "ghost", "id", "g1", "kind", "buy", "qty", "1")
	rdb.XAdd(ctx, redisXAddRaw{k.Inbox(), []any{"kind", "\xff\xfe", "junk", strings.Repeat("x", 5000)}}.args())
	rdb.XAdd(ctx, redisXAddRaw{k.Inbox(), []any{"kind", "phase", "phase", "explode"}}.args())

	for id := range entries {
		if r := resultOf(t, rdb, "alice", id); r.Status != rules.StatusInvalid || r.Reason == "" || len(r.Reason) > 300 {
			t.Errorf("order %s: got %+v, want invalid with a short reason", id, r)
		}
	}
	if r := resultOf(t, rdb, "alice", badID); r.Status != rules.StatusInvalid {
		t.Errorf("order with an invalid id: got %+v, want invalid answered by its entry id", r)
	}

	// The engine carries on: valid orders, a trader whose registration was not JSON, ticks.
	send(t, rdb, "alice", rules.Order{ID: "ok", Kind: rules.KindFeed, Qty: 1})
	send(t, rdb, "mallory", rules.Order{ID: "m1", Kind: rules.KindFeed, Qty: 2})
	if r := resultOf(t, rdb, "alice", "ok"); r.Status != rules.StatusAccepted {
		t.Errorf("valid order after junk: %+v", r)
	}
	if r := resultOf(t, rdb, "mallory", "m1"); r.Status != rules.StatusAccepted || r.Account.Fed != 2 {
		t.Errorf("order of a trader with a broken registration: %+v", r)
	}
	if n, _ := rdb.XLen(ctx, k.Results("ghost")).Result(); n != 0 {
		t.Errorf("an unregistered trader got %d results", n)
	}
	if n, _ := rdb.HExists(ctx, k.Accounts(), "Bad Name!").Result(); n {
		t.Error("a trader with an invalid name got an account")
	}
	testutil.Eventually(t, 10*time.Second, "the inbox junk to be counted", func() bool {
		return promtest.ToFloat64(e.metrics.invalid.WithLabelValues("inbox")) == 2
	})
	if n := promtest.ToFloat64(e.metrics.invalid.WithLabelValues("orders")); n < 6 {
		t.Errorf("invalid orders counted: %v, want at least 6", n)
	}
	if n := promtest.ToFloat64(e.metrics.invalid.WithLabelValues("traders")); n < 1 {
		t.Errorf("invalid traders counted: %v", n)
	}
	tick := lastTick(t, rdb).Seq
	testutil.Eventually(t, 10*time.Second, "ticks after the junk", func() bool { return lastTick(t, rdb).Seq > tick })
	e.stop(t)
	audit(t, rdb)
}
