package engine

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/rules"
)

// readBatch is what one XREAD returned.
type readBatch struct {
	streams []redis.XStream
	read    time.Time
	full    bool // some stream gave as many entries as asked: more are waiting
	err     error
}

// reader reads the orders of every registered trader and the inbox with XREAD, after the
// last entry it read of each. It starts after the cursors the session restored (a stream
// without one from its start), and runs ahead of what is written: what it read is applied
// in the order it was read, and the cursors move in Redis with the batch that applied it.
type reader struct {
	s   *session
	pos map[string]string // stream key → entry id of the last entry read
}

// args are the arguments of the XREAD that reads new orders of every registered trader
// and the inbox.
func (r *reader) args(block time.Duration) *redis.XReadArgs {
	keys := *r.s.streams.Load()
	args := make([]string, 2*len(keys))
	copy(args, keys)
	for i, key := range keys {
		args[len(keys)+i] = cmp.Or(r.pos[key], "0")
	}
	return &redis.XReadArgs{Streams: args, Count: r.s.readCount(len(keys)), Block: block}
}

// readCount is how many orders a read takes from each of n streams: BatchSize in all,
// and at least a few from each.
func (s *session) readCount(n int) int64 { return max(s.e.opts.BatchSize/int64(n), 32) }

// batch makes a batch of what an XREAD returned and moves the reader past it; nothing new
// is an empty batch.
func (r *reader) batch(a *redis.XReadArgs, res []redis.XStream, err error) *readBatch {
	b := &readBatch{streams: res, read: r.s.e.clk.Now()}
	if err != nil && !errors.Is(err, redis.Nil) {
		b.err = fmt.Errorf("read orders: %w", err)
	}
	for _, st := range res {
		if n := len(st.Messages); n > 0 {
			r.pos[st.Stream] = st.Messages[n-1].ID
		}
		if int64(len(st.Messages)) >= a.Count {
			b.full = true
		}
	}
	return b
}

// run reads orders whenever the loop asks for it, waiting up to a moment for new ones, and
// hands what it read (maybe nothing) to the loop. The loop asks again as soon as it has a
// batch, so the next one is read while this one is applied and written.
func (r *reader) run(ctx context.Context, want <-chan struct{}, out chan<- *readBatch) {
	e := r.s.e
	block := min(max(e.cfg.TickInterval/2, 10*time.Millisecond), 100*time.Millisecond)
	for {
		select {
		case <-want:
		case <-ctx.Done():
			return
		}
		a := r.args(block)
		res, err := e.rdb.XRead(ctx, a).Result()
		if ctx.Err() != nil {
			return
		}
		select {
		case out <- r.batch(a, res, err):
		case <-ctx.Done():
			return
		}
	}
}

// harvestItem is a plantation waiting for its harvest, with its member in the harvests set.
type harvestItem struct {
	p      rules.Plantation
	member string
}

// harvestQueue orders plantations by due time (then trader and order, to be deterministic).
type harvestQueue []harvestItem

func (q harvestQueue) Len() int { return len(q) }
func (q harvestQueue) Less(i, j int) bool {
	a, b := q[i].p, q[j].p
	if a.DueMs != b.DueMs {
		return a.DueMs < b.DueMs
	}
	if a.Trader != b.Trader {
		return a.Trader < b.Trader
	}
	return a.OrderID < b.OrderID
}
func (q harvestQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *harvestQueue) Push(x any)   { *q = append(*q, x.(harvestItem)) }
func (q *harvestQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
func (q *harvestQueue) push(it harvestItem) { heap.Push(q, it) }
