package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Fields of the state hash besides the rules' State.
const (
	stateRules    = "rules"    // rules.State as JSON
	stateConfig   = "config"   // rules.Config as JSON
	stateBatch    = "batch"    // number of the last journal entry
	statePausedBy = "pausedBy" // "suspend" when the market is paused by its settings
	stateUpdated  = "updated"  // wall-clock time of the last batch
)

const pausedBySuspend = "suspend"

// session is one stretch of leading the market: from taking the lease to losing it (or
// Redis failing). It owns the rules.Market; only its goroutine touches it.
type session struct {
	e        *Engine
	m        *rules.Market
	token    string
	conn     *redis.Conn
	watched  string // the lease's value when it was last watched
	batch    int64  // journal entries written
	pausedBy string

	traders  map[string]*traderState // by name
	byStream map[string]*traderState // by orders stream key
	streams  atomic.Pointer[[]string]
	harvests harvestQueue

	wallMark       time.Time // wall-clock time up to which market time is counted
	lastCommit     time.Time
	lastSweep      time.Time
	refreshAt      time.Time
	tickMs         int64
	durationMs     int64
	standingsDirty bool

	out outbox

	counters []prometheus.Counter // answered orders, by status
	repeated prometheus.Counter
}

// traderState is what the engine keeps about one registered trader.
type traderState struct {
	name, team         string
	ordersKey, results string
	dirty              bool

	// The order ids of this trader's latest results, to answer a retried order with its
	// first result: seen maps an id to its result's entry id; ring holds the ids of the
	// last ResultsMaxLen results ("" for a harvest or a repeated answer), which are all
	// still in results:<trader>.
	loaded  bool
	seen    map[string]string
	ring    []string
	ringPos int
}

func (t *traderState) remember(id, entryID string, capacity int) {
	if len(t.ring) < capacity {
		t.ring = append(t.ring, id)
	} else {
		if old := t.ring[t.ringPos]; old != "" {
			delete(t.seen, old)
		}
		t.ring[t.ringPos] = id
		t.ringPos = (t.ringPos + 1) % capacity
	}
	if id != "" {
		t.seen[id] = entryID
	}
}

// lead restores the market and applies orders until ctx ends, the lease is lost or Redis
// fails.
func (e *Engine) lead(ctx context.Context, token string) (err error) {
	s := &session{e: e, token: token, traders: map[string]*traderState{}, byStream: map[string]*traderState{},
		tickMs: e.cfg.TickInterval.Milliseconds(), durationMs: e.opts.Settings.Duration.Milliseconds()}
	s.conn = e.rdb.Conn()
	defer s.conn.Close()
	defer func() {
		for _, r := range s.out.replies {
			r.req.reply <- gibbReply{status: http.StatusServiceUnavailable, err: "the engine stopped before the gibb was saved; post it again"}
		}
		if !errors.Is(err, errLeaseLost) {
			// Stopping or starting over: a successor (or this engine) need not wait.
			e.release(token)
		}
	}()
	if err := s.restore(ctx); err != nil {
		return err
	}
	if err := s.watch(ctx); err != nil {
		return err
	}
	s.start()
	if err := s.commit(ctx); err != nil {
		return err
	}
	if err := s.recoverPending(ctx); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	want, batches := make(chan struct{}, 1), make(chan *readBatch, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		s.read(rctx, want, batches)
	}()
	// What the reader reads after the loop stopped stays pending: wait for it, so that the
	// next session of this engine finds it among the pending orders it applies first.
	defer func() {
		cancel()
		<-readerDone
	}()
	return s.loop(ctx, want, batches)
}

// restore loads the market from Redis: the rules' state, accounts, traders and harvests.
func (s *session) restore(ctx context.Context) error {
	e, k := s.e, s.e.keys
	p := e.rdb.Pipeline()
	stC := p.HGetAll(ctx, k.State())
	accC := p.HGetAll(ctx, k.Accounts())
	hvC := p.ZRangeWithScores(ctx, k.Harvests(), 0, -1)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("load market %s from Redis: %w", e.opts.Market, err)
	}
	st := stC.Val()
	accounts := map[string]rules.Account{}
	for name, v := range accC.Val() {
		_, a, err := protocol.DecodeAccount(v)
		if err != nil {
			return fmt.Errorf("load account of trader %s: %w; the accounts hash %s was changed by hand", name, err, k.Accounts())
		}
		accounts[name] = a
	}
	s.batch, _ = strconv.ParseInt(st[stateBatch], 10, 64)
	s.pausedBy = st[statePausedBy]
	if raw, ok := st[stateRules]; ok {
		var rs rules.State
		if err := json.Unmarshal([]byte(raw), &rs); err != nil {
			return fmt.Errorf("load market state: %w; delete the market's keys to start over", err)
		}
		m, err := rules.Restore(e.cfg, rs, accounts)
		if err != nil {
			return fmt.Errorf("load market %s: %w", e.opts.Market, err)
		}
		s.m = m
		if st[stateConfig] != string(e.cfgJSON) {
			e.log.Info("Changed the market's rules", "config", string(e.cfgJSON))
			s.out.journalConfig(e.cfg)
		}
	} else {
		s.m = rules.NewMarket(e.cfg)
		s.out.journalConfig(e.cfg)
		for name := range accounts {
			e.log.Info("Found an account of a market without state; starting the trader afresh", "trader", name)
		}
	}
	s.harvests = s.harvests[:0]
	for _, z := range hvC.Val() {
		member, _ := z.Member.(string)
		var pl rules.Plantation
		if err := json.Unmarshal([]byte(member), &pl); err != nil {
			e.log.Error("Dropped a harvest that cannot be read", "harvest", member, "err", err)
			e.metrics.invalid.WithLabelValues("harvests").Inc()
			s.out.zrem = append(s.out.zrem, member)
			continue
		}
		s.harvests = append(s.harvests, harvestItem{p: pl, member: member})
	}
	heap.Init(&s.harvests)
	s.wallMark = e.clk.Now()
	s.standingsDirty = true
	if err := s.refreshTraders(ctx); err != nil {
		return err
	}
	if err := s.e.rdb.XGroupCreateMkStream(ctx, k.Inbox(), protocol.EngineGroup, "0").Err(); err != nil && !isBusyGroup(err) {
		return fmt.Errorf("create consumer group on %s: %w", k.Inbox(), err)
	}
	s.publishStreams()
	e.log.Info("Restored the market", "phase", s.m.Phase().String(), "tick", s.m.LastTick().Seq,
		"traders", len(s.traders), "harvests", len(s.harvests), "batch", s.batch)
	return nil
}

func isBusyGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") }

// start opens the market unless its settings suspend it, and pauses it when they do.
func (s *session) start() {
	suspend := s.e.opts.Settings.Suspend
	switch ph := s.m.Phase(); {
	case suspend && ph == rules.PhaseOpen:
		s.pausedBy = pausedBySuspend
		s.setPhase(rules.PhasePaused)
	case !suspend && ph == rules.PhasePending:
		s.setPhase(rules.PhaseOpen)
	case !suspend && ph == rules.PhasePaused && s.pausedBy == pausedBySuspend:
		s.pausedBy = ""
		s.setPhase(rules.PhaseOpen)
	}
	s.out.announce = true
}

// setPhase moves the market and publishes the change.
func (s *session) setPhase(p rules.Phase) {
	s.advance()
	if err := s.m.SetPhase(p); err != nil {
		s.e.log.Info("Ignored a phase change", "err", err)
		return
	}
	s.wallMark = s.e.clk.Now()
	s.out.journal = protocol.AppendJournalPhase(s.out.journal, p)
	s.out.phaseTick(s, p)
	s.standingsDirty = true
	s.e.log.Info("Moved the market", "phase", p.String())
}

// advance counts the wall-clock time since the last call as market time while the market
// is open, and closes it when its duration is over.
func (s *session) advance() {
	now := s.e.clk.Now()
	if s.m.Phase() != rules.PhaseOpen {
		s.wallMark = now
		return
	}
	d := now.Sub(s.wallMark).Milliseconds()
	if d <= 0 {
		return
	}
	s.wallMark = s.wallMark.Add(time.Duration(d) * time.Millisecond)
	ms := s.m.TimeMs() + d
	if s.durationMs > 0 && ms > s.durationMs {
		ms = s.durationMs
	}
	if ms > s.m.TimeMs() {
		s.m.SetTime(ms)
		s.out.journal = protocol.AppendJournalTime(s.out.journal, ms)
	}
}

// clockWork does what market time asks for: close at the end, ticks, harvests.
func (s *session) clockWork(ctx context.Context) error {
	s.advance()
	if s.m.Phase() == rules.PhaseOpen && s.durationMs > 0 && s.m.TimeMs() >= s.durationMs {
		s.setPhase(rules.PhaseClosed)
	}
	ticked := false
	for s.m.Phase() == rules.PhaseOpen && s.m.TimeMs() >= s.m.LastTick().Seq*s.tickMs {
		t := s.m.Tick()
		s.out.tick(s, t)
		s.e.metrics.ticks.Inc()
		ticked = true
	}
	for s.m.Phase() == rules.PhaseOpen && len(s.harvests) > 0 && s.harvests[0].p.DueMs <= s.m.TimeMs() {
		h := heap.Pop(&s.harvests).(harvestItem)
		s.harvest(h)
	}
	now := s.e.clk.Now()
	if ticked || !now.Before(s.refreshAt) {
		s.refreshAt = now.Add(max(s.e.cfg.TickInterval, 50*time.Millisecond))
		s.standingsDirty = true
		if err := s.refreshTraders(ctx); err != nil {
			return err
		}
	}
	return nil
}

// nextWake is how long the loop may wait for orders before the clock needs it.
func (s *session) nextWake() time.Duration {
	now := s.e.clk.Now()
	wake := s.refreshAt.Sub(now)
	wake = min(wake, s.lastCommit.Add(s.e.opts.LeaseTTL/4).Sub(now))
	if s.m.Phase() == rules.PhaseOpen {
		ms := s.m.TimeMs()
		due := s.m.LastTick().Seq*s.tickMs - ms
		if len(s.harvests) > 0 {
			due = min(due, s.harvests[0].p.DueMs-ms)
		}
		if s.durationMs > 0 {
			due = min(due, s.durationMs-ms)
		}
		wake = min(wake, time.Duration(due)*time.Millisecond-now.Sub(s.wallMark))
	}
	return max(wake, 0)
}

// refreshTraders picks up traders registered since the last look.
func (s *session) refreshTraders(ctx context.Context) error {
	e := s.e
	all, err := e.rdb.HGetAll(ctx, e.keys.Traders()).Result()
	if err != nil {
		return fmt.Errorf("read registered traders %s: %w", e.keys.Traders(), err)
	}
	type newTrader struct {
		name string
		info protocol.TraderInfo
	}
	var added []newTrader
	for name, v := range all {
		if t, ok := s.traders[name]; ok {
			if info, err := protocol.DecodeTraderInfo(v); err == nil && info.Team != t.team {
				t.team = info.Team
				s.standingsDirty = true
			}
			continue
		}
		if err := protocol.ValidateName("trader", name); err != nil {
			if _, warned := s.byStream[name]; !warned {
				e.log.Error("Ignored a registered trader with an invalid name", "trader", name, "err", err)
				e.metrics.invalid.WithLabelValues("traders").Inc()
				s.byStream[name] = nil
			}
			continue
		}
		info, err := protocol.DecodeTraderInfo(v)
		if err != nil {
			e.log.Error("Registered a trader whose registration cannot be read", "trader", name, "err", err)
			e.metrics.invalid.WithLabelValues("traders").Inc()
		}
		added = append(added, newTrader{name, info})
	}
	if len(added) == 0 {
		return nil
	}
	// One round trip for all: a restarted engine finds every trader new.
	p := e.rdb.Pipeline()
	groups := make([]*redis.StatusCmd, len(added))
	for i, a := range added {
		groups[i] = p.XGroupCreateMkStream(ctx, e.keys.Orders(a.name), protocol.EngineGroup, "0")
	}
	_, _ = p.Exec(ctx)
	for i, a := range added {
		key := e.keys.Orders(a.name)
		if err := groups[i].Err(); err != nil && !isBusyGroup(err) {
			return fmt.Errorf("create consumer group on %s: %w", key, err)
		}
		t := &traderState{name: a.name, team: a.info.Team, ordersKey: key, results: e.keys.Results(a.name), seen: map[string]string{}}
		s.traders[a.name], s.byStream[key] = t, t
		if s.m.AddTrader(a.name) {
			s.out.journal = protocol.AppendJournalTrader(s.out.journal, a.name)
			e.log.Info("Registered a trader", "trader", a.name, "team", a.info.Team)
		}
		s.markDirty(t)
	}
	s.standingsDirty = true
	s.publishStreams()
	return nil
}

// publishStreams hands the reader the streams to read: the inbox and every trader's orders.
func (s *session) publishStreams() {
	keys := make([]string, 0, len(s.traders)+1)
	keys = append(keys, s.e.keys.Inbox())
	for _, t := range s.traders {
		keys = append(keys, t.ordersKey)
	}
	slices.Sort(keys[1:])
	s.streams.Store(&keys)
}

func (s *session) markDirty(t *traderState) {
	if !t.dirty {
		t.dirty = true
		s.out.dirty = append(s.out.dirty, t)
	}
}

// loop applies batches of orders, gibbs from people and the market clock until it fails.
//
// While orders keep coming, each commit also reads the next batch in the same round trip
// (see commitAndRead), so an order waits for at most the batch being written before it is
// read. When a read was full, more orders are already waiting: the reader reads the next
// batch while this one is applied and written. Only when a read finds nothing does the
// reader wait for new orders, and meanwhile the loop serves the clock and gibbs from
// people. There is never more than one read at a time, so every trader's orders are applied
// in order.
func (s *session) loop(ctx context.Context, want chan<- struct{}, batches <-chan *readBatch) error {
	e := s.e
	var next *readBatch // read with the last commit
	reading := false    // the reader's read is under way
	for {
		b := next
		next = nil
		var req *gibbRequest
		if b == nil {
			if !reading {
				want <- struct{}{}
				reading = true
			}
			timer := e.clk.NewTimer(s.nextWake())
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case b = <-batches:
				reading = false
			case req = <-e.gibbReqs:
			case <-timer.C():
			}
			timer.Stop()
		} else {
			select {
			case req = <-e.gibbReqs:
			default:
			}
		}
		if b != nil && b.full && !reading {
			// More orders are waiting: read them while this batch is applied and written.
			want <- struct{}{}
			reading = true
		}
		if err := s.clockWork(ctx); err != nil {
			return err
		}
		if b != nil {
			if b.err != nil {
				return b.err
			}
			if err := s.applyBatch(ctx, b); err != nil {
				return err
			}
			if !b.full {
				e.caughtUp.Store(true)
			}
		}
		if req != nil {
			s.applyGibbRequest(req)
		}
		if e.clk.Since(s.lastSweep) >= e.opts.OrphanIdle/2 {
			if err := s.sweepOrphans(ctx); err != nil {
				return err
			}
		}
		// Read along with this commit unless the reader is waiting for orders: two reads at
		// once could hand a trader's orders to the loop out of order.
		readNext := !reading && b != nil && b.orders() > 0
		if !readNext && s.out.empty() && e.clk.Since(s.lastCommit) < e.opts.LeaseTTL/4 {
			continue
		}
		var err error
		if next, err = s.commitAndRead(ctx, readNext); err != nil {
			return err
		}
	}
}

// recoverPending applies the orders read before a crash but never acknowledged.
func (s *session) recoverPending(ctx context.Context) error {
	e := s.e
	for {
		keys := *s.streams.Load()
		args := make([]string, 0, 2*len(keys))
		args = append(args, keys...)
		for range keys {
			args = append(args, "0")
		}
		// As many per stream as a read of new orders takes: applying and writing a batch must
		// take well less than the lease lasts.
		res, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: protocol.EngineGroup, Consumer: protocol.EngineGroup,
			Streams: args, Count: s.readCount(len(keys)), Block: -1}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read pending orders: %w", err)
		}
		n := 0
		for _, st := range res {
			n += len(st.Messages)
		}
		if n == 0 {
			return nil
		}
		e.log.Info("Applying orders read before a restart", "orders", n)
		if err := s.clockWork(ctx); err != nil {
			return err
		}
		if err := s.applyBatch(ctx, &readBatch{streams: res, read: e.clk.Now()}); err != nil {
			return err
		}
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
}

// sweepOrphans applies orders that were read but never acknowledged for longer than
// OrphanIdle. This engine applies what it reads within one pass of its loop, so such orders
// were read by an engine that had just lost its lease; without this they would wait for
// the next restart. XAUTOCLAIM hands them to this engine's reading, and the batch that
// applies them acknowledges them like any other.
func (s *session) sweepOrphans(ctx context.Context) error {
	e := s.e
	s.lastSweep = e.clk.Now()
	keys := *s.streams.Load()
	pipe := e.rdb.Pipeline()
	cmds := make([]*redis.XAutoClaimCmd, len(keys))
	for i, key := range keys {
		cmds[i] = pipe.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: key, Group: protocol.EngineGroup,
			Consumer: protocol.EngineGroup, MinIdle: e.opts.OrphanIdle, Start: "0-0", Count: e.opts.BatchSize})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) && !isNoGroup(err) {
		return fmt.Errorf("look for orders read by another engine: %w", err)
	}
	var orphans []redis.XStream
	n := 0
	for i, c := range cmds {
		msgs, _, err := c.Result()
		if err != nil || len(msgs) == 0 {
			continue
		}
		orphans = append(orphans, redis.XStream{Stream: keys[i], Messages: msgs})
		n += len(msgs)
	}
	if n == 0 {
		return nil
	}
	e.log.Info("Applying orders left unacknowledged by another engine", "orders", n)
	if err := s.applyBatch(ctx, &readBatch{streams: orphans, read: e.clk.Now()}); err != nil {
		return err
	}
	return s.commit(ctx)
}

// isNoGroup reports a stream that has no consumer group yet: nothing was ever read there.
func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}
