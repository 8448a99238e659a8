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

// read reads new orders of every registered trader and the inbox in one XREADGROUP at a
// time, and hands them to the session's loop. Reading the next batch while the loop writes
// the previous one keeps Redis busy; what was read but not applied stays pending in the
// consumer group and is applied after a restart.
func (s *session) read(ctx context.Context, out chan<- *readBatch) {
	e := s.e
	block := min(max(e.cfg.TickInterval/2, 10*time.Millisecond), 100*time.Millisecond)
	var args []string
	for ctx.Err() == nil {
		keys := *s.streams.Load()
		count := max(e.opts.BatchSize/int64(len(keys)), 32)
		args = append(args[:0], keys...)
		for range keys {
			args = append(args, ">")
		}
		res, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: protocol.EngineGroup,
			Consumer: protocol.EngineGroup, Streams: args, Count: count, Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			e.caughtUp.Store(true)
			continue
		}
		b := &readBatch{streams: res, read: e.clk.Now()}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.err = fmt.Errorf("read orders: %w", err)
		}
		for _, st := range res {
			if int64(len(st.Messages)) >= count {
				b.full = true
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil {
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
