package engine

import (
	"hash/maphash"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// collidingIDs gives every order id the same hash until the test ends.
func collidingIDs(t *testing.T) {
	idHash = func(maphash.Seed, string) uint64 { return 42 }
	t.Cleanup(func() { idHash = maphash.String })
}

func entryOf(i int) string { return strconv.Itoa(1_700_000_000_000+i) + "-" + strconv.Itoa(i%3) }

func TestRecentIDsKeepTheLatestResults(t *testing.T) {
	for _, colliding := range []bool{false, true} {
		t.Run("colliding="+strconv.FormatBool(colliding), func(t *testing.T) {
			if colliding {
				collidingIDs(t)
			}
			r := newRecentIDs(4)
			r.add("a", entryOf(1))
			r.add("", entryOf(2)) // a harvest: no id, but one of the latest results
			r.add("b", entryOf(3))
			r.add("c", entryOf(4))
			for id, want := range map[string]string{"a": entryOf(1), "b": entryOf(3), "c": entryOf(4)} {
				if got, ok := r.lookup(id); !ok || got != want {
					t.Errorf("lookup(%q) = %q, %v; want %q", id, got, ok, want)
				}
			}
			r.add("d", entryOf(5)) // the fifth result: a's is the oldest, and forgotten
			if got, ok := r.lookup("a"); ok && got == entryOf(1) {
				t.Errorf("a is still remembered after 4 later results")
			}
			for id, want := range map[string]string{"b": entryOf(3), "c": entryOf(4), "d": entryOf(5)} {
				if got, ok := r.lookup(id); !ok || got != want {
					t.Errorf("after a is forgotten: lookup(%q) = %q, %v; want %q", id, got, ok, want)
				}
			}
			r.add("e", entryOf(6))
			r.add("f", entryOf(7))
			r.add("g", entryOf(8))
			r.add("h", entryOf(9))
			for id, want := range map[string]string{"e": entryOf(6), "f": entryOf(7), "g": entryOf(8), "h": entryOf(9)} {
				if got, ok := r.lookup(id); !ok || got != want {
					t.Errorf("after a whole turn: lookup(%q) = %q, %v; want %q", id, got, ok, want)
				}
			}
			if len(r.byHash)+len(r.overflow) != 4 {
				t.Errorf("%d ids kept by hash and %d by text, want 4 in all", len(r.byHash), len(r.overflow))
			}
		})
	}
}

// An id never remembered that has the hash of a remembered one finds that one's result,
// which the engine compares before answering with it: a new order, not a retry.
func TestOrderWithTheHashOfAnotherIsNew(t *testing.T) {
	collidingIDs(t)
	_, rdb := newRedis(t)
	register(t, rdb, "alice")
	startEngine(t, rdb, steadySettings(time.Hour))
	for _, id := range []string{"x1", "x2", "x3"} {
		send(t, rdb, "alice", rules.Order{ID: id, Kind: rules.KindBuy, Qty: 1})
		resultOf(t, rdb, "alice", id)
	}
	// Retried: each gets its own first result.
	for _, id := range []string{"x2", "x1"} {
		send(t, rdb, "alice", rules.Order{ID: id, Kind: rules.KindBuy, Qty: 1})
		if got := resultsFor(t, rdb, "alice", id, 2); got[1] != withEntry(got[0], got[1].EntryID) {
			t.Errorf("retried %s got %+v, want its first result %+v", id, got[1], got[0])
		}
	}
	x3 := resultOf(t, rdb, "alice", "x3")
	send(t, rdb, "alice", rules.Order{ID: "x4", Kind: rules.KindBuy, Qty: 1})
	if r := resultOf(t, rdb, "alice", "x4"); r.Status != rules.StatusAccepted || r.Account.Shares != x3.Account.Shares+1 {
		t.Errorf("a new id with the hash of others got %+v, want it applied: a share more than after x3 (%+v)", r, x3)
	}
	audit(t, rdb)
}

// An order without an id of its own goes by its entry id: a later order that names that
// entry id as its own is another order.
func TestOrderWithoutIDIsNotRemembered(t *testing.T) {
	_, rdb := newRedis(t)
	register(t, rdb, "alice")
	startEngine(t, rdb, steadySettings(time.Hour))
	entry := sendRaw(t, rdb, "alice", protocol.FieldVersion, protocol.Version, protocol.FieldKind, "buy", protocol.FieldQty, "1")
	first := resultOf(t, rdb, "alice", entry)
	send(t, rdb, "alice", rules.Order{ID: entry, Kind: rules.KindBuy, Qty: 1})
	got := resultsFor(t, rdb, "alice", entry, 2)
	if got[1].Order == first.Order || got[1].Account.Shares != first.Account.Shares+1 {
		t.Errorf("an order with the entry id of an order without an id got %+v, want it applied after %+v", got[1], first)
	}
	audit(t, rdb)
}

// BenchmarkRecentIDs remembers the ids of results of 100 traders in turn, each keeping its
// latest 2,000, and reports the heap they take per id and how long a full garbage
// collection takes with them.
func BenchmarkRecentIDs(b *testing.B) {
	const traders, capacity = 100, 2000
	recent := make([]*recentIDs, traders)
	for i := range recent {
		recent[i] = newRecentIDs(capacity)
	}
	add := func(from, n int) {
		for i := from; i < from+n; i++ {
			// As the SDK names its orders: a session, then a number.
			recent[i%traders].add("k3j9x2p1-"+strconv.Itoa(i/traders), entryOf(i))
		}
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	add(0, traders*capacity)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	start := time.Now()
	runtime.GC()
	gc := time.Since(start)
	b.ResetTimer()
	add(traders*capacity, b.N)
	b.StopTimer()
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(traders*capacity), "heap-B/id")
	b.ReportMetric(float64(gc.Microseconds()), "full-gc-µs")
	last := traders*capacity + b.N - 1
	if _, ok := recent[last%traders].lookup("k3j9x2p1-" + strconv.Itoa(last/traders)); !ok {
		b.Fatal("the latest id is not remembered")
	}
}
