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

// readBatch is what one read returned.
type readBatch struct {
	streams []redis.XStream // each stream at most once
	read    time.Time
	full    bool // some stream gave as many entries as asked: more are waiting
	waited  bool // the read most likely waited for orders: Redis answered it with one stream at most
	err     error
}

// reader reads the orders of every registered trader and the inbox with XREAD, after the
// last entry it read of each. It starts after the cursors the session restored (a stream
// without one from its start), and runs ahead of what is written: what it read is applied
// in the order it was read, and the cursors move in Redis with the batch that applied it.
type reader struct {
	s   *session
	pos map[string]string // stream key → entry id of the last entry read

	// The streams and ids of the XREAD, STREAMS key... id..., kept between reads: a read of
	// a hundred streams has two hundred of them, and only the ids of streams that gave
	// entries change. They are made again when the streams to read change.
	keys      *[]string      // the streams they are made for
	streams   []any          // STREAMS key... id...
	ids       map[string]int // stream key → index of its id in streams
	count     int64
	args      []any           // the arguments of the read under way
	then      []any           // the arguments of the read that follows a blocking one
	conn      *redis.Conn     // the reader's own connection, for the whole session
	pipe      redis.Pipeliner // on conn, for a blocking read and the one that follows it
	bell      *doorbell       // when it works, what the reader waits for instead of a blocking read
	bellTried bool            // the reader opened a doorbell, or Redis refused it
}

// read reads new orders of every registered trader and the inbox, waiting up to block for
// one, or not at all when block is negative. (It waits at most 100 ms, well within the
// client's read timeout, which go-redis's own XRead would stretch by the wait.)
//
// A read that waits is followed, in the same round trip, by one that does not. Redis
// answers a blocked XREAD as soon as an order is appended to one of its streams, with that
// stream alone, while orders appended with it (several traders at once, or a trader's
// pipeline) land in others. Redis runs the second read once it has answered the first and
// finished what it was doing, so it holds them too, and the first's orders: its answer is
// the batch. Reading them with a read of their own would cost a round trip more.
//
// From Options.DoorbellStreams streams on, the reader opens a doorbell (see doorbell): while
// it works, a read that waits waits for it instead, and reads the streams it names.
func (r *reader) read(ctx context.Context, block time.Duration) *readBatch {
	fresh := r.prepare()
	if fresh && !r.bellTried && int64(len(*r.keys)) >= r.s.e.opts.DoorbellStreams {
		r.openBell(ctx)
	}
	if r.bell != nil {
		if err := r.bell.broken(); err != nil {
			r.s.e.log.Info("Stopped waiting for orders on the doorbell; waiting with XREAD BLOCK", "err", err)
			r.closeBell()
		}
	}
	if block >= 0 && r.bell != nil {
		// The doorbell may have rung for a new trader's stream before the reader read it.
		return r.readRung(ctx, block, fresh)
	}
	r.args = r.xread(r.args[:0], block)
	cmd := redis.NewXStreamSliceCmd(ctx, r.args...)
	waited := false
	if block < 0 {
		_ = r.conn.Process(ctx, cmd)
	} else {
		r.then = r.xread(r.then[:0], -1)
		then := redis.NewXStreamSliceCmd(ctx, r.then...)
		_ = r.pipe.Process(ctx, cmd)
		_ = r.pipe.Process(ctx, then)
		_, _ = r.pipe.Exec(ctx)
		if err := cmd.Err(); err == nil || errors.Is(err, redis.Nil) {
			// A read that found orders waiting answers with every stream that has some;
			// one woken by an order, with that order's stream.
			waited = len(cmd.Val()) <= 1
			cmd = then
		}
	}
	return r.took(cmd, waited)
}

// readRung waits up to block for the doorbell to ring, then reads the streams that changed
// without waiting; or every stream, when none rang, or at once when all is true.
func (r *reader) readRung(ctx context.Context, block time.Duration, all bool) *readBatch {
	var changed map[string]struct{}
	rang := true
	if !all {
		changed, rang = r.bell.wait(ctx, block)
	}
	switch {
	case all || !rang:
		r.args = r.xread(r.args[:0], -1)
	default:
		r.args = r.xreadOf(r.args[:0], changed)
		if len(r.args) == 0 {
			// None of the streams read changed: a trader not yet registered, say.
			return &readBatch{read: r.s.e.clk.Now(), waited: true}
		}
	}
	cmd := redis.NewXStreamSliceCmd(ctx, r.args...)
	_ = r.conn.Process(ctx, cmd)
	b := r.took(cmd, true)
	if !rang && len(b.streams) > 0 && ctx.Err() == nil {
		r.bell.missed()
	}
	return b
}

// prepare makes the arguments of the reads again when the streams to read changed, and
// says whether they did.
func (r *reader) prepare() bool {
	keys := r.s.streams.Load()
	if keys == r.keys {
		return false
	}
	r.keys = keys
	r.count = r.s.readCount(len(*keys))
	r.streams = make([]any, 0, 1+2*len(*keys))
	r.streams = append(r.streams, "streams")
	for _, key := range *keys {
		r.streams = append(r.streams, key)
	}
	r.ids = make(map[string]int, len(*keys))
	for _, key := range *keys {
		r.ids[key] = len(r.streams)
		r.streams = append(r.streams, cmp.Or(r.pos[key], "0"))
	}
	return true
}

// took makes a batch of what a read returned, and moves the read's ids past it.
func (r *reader) took(cmd *redis.XStreamSliceCmd, waited bool) *readBatch {
	res, err := cmd.Result()
	b := &readBatch{streams: res, read: r.s.e.clk.Now(), waited: waited}
	if err != nil && !errors.Is(err, redis.Nil) {
		b.err = fmt.Errorf("read orders: %w", err)
	}
	for _, st := range res {
		if n := len(st.Messages); n > 0 {
			last := st.Messages[n-1].ID
			r.pos[st.Stream] = last
			if i, ok := r.ids[st.Stream]; ok {
				r.streams[i] = last
			}
		}
		if int64(len(st.Messages)) >= r.count {
			b.full = true
		}
	}
	return b
}

// xread appends to args an XREAD of every stream after its last entry read, waiting up to
// block (not at all when it is negative).
func (r *reader) xread(args []any, block time.Duration) []any {
	args = append(args, "xread", "count", r.count)
	if block >= 0 {
		args = append(args, "block", block.Milliseconds())
	}
	return append(args, r.streams...)
}

// xreadOf appends to args an XREAD, without waiting, of those of the given streams that the
// reader reads, after the last entry it read of each; it appends nothing when it reads none.
func (r *reader) xreadOf(args []any, streams map[string]struct{}) []any {
	start := len(args)
	args = append(args, "xread", "count", r.count, "streams")
	keys := len(args)
	for key := range streams {
		if _, ok := r.ids[key]; ok {
			args = append(args, key)
		}
	}
	n := len(args) - keys
	if n == 0 {
		return args[:start]
	}
	for _, key := range args[keys : keys+n] {
		args = append(args, r.streams[r.ids[key.(string)]])
	}
	return args
}

// readCount is how many orders a read takes from each of n streams: BatchSize in all,
// and at least a few from each.
func (s *session) readCount(n int) int64 { return max(s.e.opts.BatchSize/int64(n), 32) }

// run reads orders whenever the loop asks for it, waiting up to a moment for new ones, and
// hands what it read (maybe nothing) to the loop. The loop asks again as soon as it has a
// batch, so the next one is read while this one is applied and written.
//
// A read waits for orders when the one before it found none, or had to wait itself: the
// next orders are most likely not there yet. Otherwise (a backlog, a flood) orders are
// most likely waiting, and it reads them without waiting: a read that waits reads twice,
// and would read them twice.
func (r *reader) run(ctx context.Context, want <-chan struct{}, out chan<- *readBatch) {
	e := r.s.e
	block := min(max(e.cfg.TickInterval/2, 10*time.Millisecond), 100*time.Millisecond)
	busy := false
	defer r.closeBell()
	for {
		select {
		case <-want:
		case <-ctx.Done():
			return
		}
		wait := block
		if busy {
			wait = -1
		}
		b := r.read(ctx, wait)
		if ctx.Err() != nil {
			return
		}
		switch {
		case b.err != nil:
			busy = false
		case b.full:
			busy = true
		case wait >= 0:
			busy = !b.waited
		default:
			busy = len(b.streams) > 0
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
	}
}

// openBell opens the doorbell of the market's orders streams and inbox, unless Redis
// refuses it: then the reader waits with XREAD BLOCK. It opens one per session at most.
func (r *reader) openBell(ctx context.Context) {
	e := r.s.e
	r.bellTried = true
	bell, err := openDoorbell(ctx, e.rdb, e.keys.Orders(""), e.keys.Inbox())
	if err != nil {
		e.log.Info("Waiting for orders with XREAD BLOCK: Redis refused the doorbell", "err", err)
		return
	}
	r.bell = bell
	e.metrics.doorbell.Set(1)
	e.log.Info("Waiting for orders on the doorbell", "streams", len(*r.keys))
}

func (r *reader) closeBell() {
	if r.bell != nil {
		r.bell.close()
		r.bell = nil
		r.s.e.metrics.doorbell.Set(0)
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
