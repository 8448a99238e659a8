package engine

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Orders of several traders that arrive together while the engine waits for orders are
// applied in one batch, although Redis wakes a blocked XREAD with one stream only.
func TestOrdersArrivingTogetherAreOneBatch(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	names := []string{"a", "b", "c", "d", "e"}
	register(t, rdb, names...)
	e := startEngine(t, rdb, steadySettings(time.Hour))
	testutil.Eventually(t, 10*time.Second, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	// Let the reader block: nothing is waiting.
	time.Sleep(100 * time.Millisecond)

	p := rdb.Pipeline()
	for _, name := range names {
		p.XAdd(ctx, redisXAdd{name, rules.Order{ID: "o-" + name, Kind: rules.KindBuy, Qty: 1}}.args())
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		resultOf(t, rdb, name, "o-"+name)
	}

	batches := map[string][]string{} // journal entry → traders whose orders it applied
	journalOrders(t, rdb, func(entry string, ev protocol.JournalEvent) {
		batches[entry] = append(batches[entry], ev.Trader)
	})
	if len(batches) != 1 {
		t.Errorf("the orders of %d traders sent in one pipeline were applied in %d batches, want 1: %v", len(names), len(batches), batches)
	}
}

// A trader's results stream is trimmed to about ResultsMaxLen entries, never fewer.
func TestResultsStreamsAreTrimmed(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	register(t, rdb, "alice")
	startEngine(t, rdb, floodSettings(), func(o *Options) { o.ResultsMaxLen = 10 })
	const orders = 1000
	p := rdb.Pipeline()
	for i := range orders {
		p.XAdd(ctx, redisXAdd{"alice", benchOrder(i, "o"+itoa(i))}.args())
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	resultOf(t, rdb, "alice", "o"+itoa(orders-1))
	// XTRIM ~ drops whole nodes of a stream (100 entries each by default).
	if n := rdb.XLen(ctx, testMarket.Keys().Results("alice")).Val(); n < 10 || n > 300 {
		t.Errorf("results stream holds %d entries after %d orders, want about 10 (10–300)", n, orders)
	}
	// However many results of a trader a batch holds, it trims the trader's stream once.
	batches, err := rdb.HGet(ctx, testMarket.Keys().State(), stateBatch).Int()
	if err != nil {
		t.Fatal(err)
	}
	trims := 0
	for _, st := range redisCommands(t, rdb) {
		if st.name == "xtrim" {
			trims = int(st.calls)
		}
	}
	if trims == 0 || trims > batches {
		t.Errorf("%d orders of one trader in %d batches trimmed its results stream %d times, want 1 to %d", orders, batches, trims, batches)
	}
}

// A trader's stream that both woke a blocked read and was read again with the orders that
// came with it is one stream of the batch: a restarted engine loads the ids of its latest
// results once, and still answers a retried order with its first result.
func TestRetryAfterRestartInAStreamReadTwice(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	register(t, rdb, "alice", "bob")
	small := func(o *Options) { o.ResultsMaxLen = 5 }
	e := startEngine(t, rdb, steadySettings(time.Hour), small)
	for i := range 5 {
		send(t, rdb, "alice", rules.Order{ID: "r" + itoa(i), Kind: rules.KindFeed, Qty: 1})
	}
	resultOf(t, rdb, "alice", "r4")
	e.stop(t)

	e = startEngine(t, rdb, steadySettings(time.Hour), small)
	testutil.Eventually(t, 10*time.Second, "the engine to lead", func() bool { return e.Leading() && e.view.Load() != nil })
	time.Sleep(100 * time.Millisecond) // the reader waits for orders
	p := rdb.Pipeline()
	for _, x := range []redisXAdd{
		{"alice", rules.Order{ID: "n1", Kind: rules.KindFeed, Qty: 1}},
		{"bob", rules.Order{ID: "m1", Kind: rules.KindFeed, Qty: 1}},
		{"alice", rules.Order{ID: "r4", Kind: rules.KindFeed, Qty: 1}},
	} {
		p.XAdd(ctx, x.args())
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r4 := resultsFor(t, rdb, "alice", "r4", 2)
	if r4[1] != withEntry(r4[0], r4[1].EntryID) {
		t.Errorf("the retried order got %+v, want its first result %+v again", r4[1], r4[0])
	}
	e.stop(t)
	audit(t, rdb)
}

// A trader's orders stream keeps its latest orders, at least ResultsMaxLen of them, and
// loses those the engine applied before them.
func TestOrdersStreamsKeepTheLatestOrders(t *testing.T) {
	_, rdb := newRedis(t)
	ctx := context.Background()
	register(t, rdb, "alice")
	const kept, rounds, perRound = 100, 10, 125
	startEngine(t, rdb, floodSettings(), func(o *Options) { o.ResultsMaxLen = kept })
	k := testMarket.Keys()
	for r := range rounds {
		p := rdb.Pipeline()
		for i := r * perRound; i < (r+1)*perRound; i++ {
			p.XAdd(ctx, redisXAdd{"alice", benchOrder(i, "o"+itoa(i))}.args())
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		resultOf(t, rdb, "alice", "o"+itoa((r+1)*perRound-1))
	}
	// XTRIM ~ drops whole nodes of a stream (100 entries each by default).
	n := rdb.XLen(ctx, k.Orders("alice")).Val()
	if n < kept || n > 4*kept {
		t.Errorf("orders stream holds %d entries after %d orders, want its latest %d to %d", n, rounds*perRound, kept, 4*kept)
	}
	latest, err := rdb.XRevRangeN(ctx, k.Orders("alice"), "+", "-", kept).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range latest {
		if want := "o" + itoa(rounds*perRound-1-i); m.Values[protocol.FieldID] != want {
			t.Fatalf("the orders stream's entry %d from the end is order %v, want %s", i, m.Values[protocol.FieldID], want)
		}
	}
	// The journal holds every order applied, each once, trimmed from its stream or not.
	seen := map[string]int{}
	journalOrders(t, rdb, func(_ string, ev protocol.JournalEvent) { seen[ev.Order.ID]++ })
	for i := range rounds * perRound {
		if id := "o" + itoa(i); seen[id] != 1 {
			t.Fatalf("the journal holds order %s %d times, want once", id, seen[id])
		}
	}
}

// journalOrders calls f with every order event of the market's journal, in order, and the
// id of the journal entry (the batch) that holds it.
func journalOrders(t *testing.T, rdb *redis.Client, f func(entry string, ev protocol.JournalEvent)) {
	t.Helper()
	entries, err := rdb.XRange(context.Background(), testMarket.Keys().Journal(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		events, err := protocol.ParseJournal(en.Values[protocol.FieldEvents].(string))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Type == protocol.JournalOrder {
				f(en.ID, ev)
			}
		}
	}
}
