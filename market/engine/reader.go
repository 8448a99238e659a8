package engine

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// readBatch is what one XREADGROUP returned.
type readBatch struct {
	streams []redis.XStream
	read    time.Time
	full    bool // some stream gave as many entries as asked: more are waiting
	err     error
}

// orders counts the entries of the batch.
func (b *readBatch) orders() int {
	n := 0
	for _, st := range b.streams {
		n += len(st.Messages)
	}
	return n
}

// readArgs are the arguments of the XREADGROUP that reads new orders of every registered
// trader and the inbox.
func (s *session) readArgs(block time.Duration) *redis.XReadGroupArgs {
	keys := *s.streams.Load()
	count := s.readCount(len(keys))
	args := make([]string, 0, 2*len(keys))
	args = append(args, keys...)
	for range keys {
		args = append(args, ">")
	}
	return &redis.XReadGroupArgs{Group: protocol.EngineGroup, Consumer: protocol.EngineGroup,
		Streams: args, Count: count, Block: block}
}

// readCount is how many orders a read takes from each of n streams: BatchSize in all,
// and at least a few from each.
func (s *session) readCount(n int) int64 { return max(s.e.opts.BatchSize/int64(n), 32) }

// newBatch makes a batch of what an XREADGROUP returned; nothing new is an empty batch.
func (s *session) newBatch(a *redis.XReadGroupArgs, res []redis.XStream, err error) *readBatch {
	b := &readBatch{streams: res, read: s.e.clk.Now()}
	if err != nil && !errors.Is(err, redis.Nil) {
		b.err = fmt.Errorf("read orders: %w", err)
	}
	for _, st := range res {
		if int64(len(st.Messages)) >= a.Count {
			b.full = true
		}
	}
	return b
}

// read reads orders whenever the loop asks for it, waiting up to a moment for new ones, and
// hands what it read (maybe nothing) to the loop. The loop asks when it has nothing to do,
// and when a full batch says more orders are waiting than one read takes; otherwise it
// reads in the round trip of each commit (see session.loop).
func (s *session) read(ctx context.Context, want <-chan struct{}, out chan<- *readBatch) {
	e := s.e
	block := min(max(e.cfg.TickInterval/2, 10*time.Millisecond), 100*time.Millisecond)
	for {
		select {
		case <-want:
		case <-ctx.Done():
			return
		}
		a := s.readArgs(block)
		res, err := e.rdb.XReadGroup(ctx, a).Result()
		if ctx.Err() != nil {
			return
		}
		select {
		case out <- s.newBatch(a, res, err):
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
