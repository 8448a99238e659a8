package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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

	traders  map[string]*traderState  // by name
	byStream map[string]*traderState  // by orders stream key
	ignored  map[string]bool          // registered traders with invalid names, logged once
	streams  atomic.Pointer[[]string] // what the reader reads
	cursors  map[string]string        // stream key → last entry applied, as restored
	harvests harvestQueue

	wallMark   time.Time // wall-clock time up to which market time is counted
	lastCommit time.Time
	refreshAt  time.Time
	tickMs     int64
	durationMs int64

	out    *outbox        // the batch being applied
	spare  *outbox        // the batch on its way to Redis, or an empty one
	flying *flight        // the batch on its way to Redis
	writes chan<- *flight // to the writer (see write)

	counters []prometheus.Counter // answered orders, by status
	repeated prometheus.Counter
}

// traderState is what the engine keeps about one registered trader.
type traderState struct {
	name, team         string
	registration       string // its value in the traders hash
	ordersKey, results string
	dirty              bool
	untrimmed          int   // results since its results stream was last trimmed
	score              int64 // in the scores set as of the last batch sent, when scored
	scored             bool
	// appendResult is the start of the XADD of a result, made once: every order has one.
	appendResult []any

	// The order ids of this trader's latest results, to answer a retried order with its
	// first result; loaded once read from results:<trader> in this session.
	loaded bool
	recent *recentIDs

	// The orders applied since ordersMark, the entry id of the last order applied when
	// their count last reached ResultsMaxLen (see appliedOrders).
	applied    int64
	ordersMark string
}

// lead restores the market and applies orders until ctx ends, the lease is lost or Redis
// fails.
func (e *Engine) lead(ctx context.Context, token string) (err error) {
	s := &session{e: e, token: token, traders: map[string]*traderState{}, byStream: map[string]*traderState{}, ignored: map[string]bool{},
		tickMs: e.cfg.TickInterval.Milliseconds(), durationMs: e.opts.Settings.Duration.Milliseconds(),
		out: &outbox{}, spare: &outbox{}}
	s.conn = e.rdb.Conn()
	defer s.conn.Close()
	writes, written := make(chan *flight, 1), make(chan struct{})
	s.writes = writes
	go func() {
		defer close(written)
		s.write(ctx, writes)
	}()
	// Deferred before the wait below, so run after it: the writer stops once the last batch
	// has landed.
	defer func() {
		close(writes)
		<-written
	}()
	defer func() {
		// The batch on its way to Redis is written or not; either way it is over before
		// the connection closes.
		if werr := s.wait(); err == nil {
			err = werr
		}
		refuse(s.out.replies)
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
	rctx, cancel := context.WithCancel(ctx)
	want, batches := make(chan struct{}, 1), make(chan *readBatch, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		// A connection of its own, as the writer's: one taken from the client's pool for
		// each read would be checked with a system call first, once per batch.
		conn := e.rdb.Conn()
		defer conn.Close()
		r := &reader{s: s, pos: maps.Clone(s.cursors), conn: conn, pipe: conn.Pipeline()}
		r.run(rctx, want, batches)
	}()
	// What the reader read but the loop did not apply is read again after the cursors by
	// the next session; the reader ends with this one.
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
	curC := p.HGetAll(ctx, k.Cursors())
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("load market %s from Redis: %w", e.opts.Market, err)
	}
	st := stC.Val()
	s.cursors = curC.Val()
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
	if err := s.refreshTraders(ctx); err != nil {
		return err
	}
	s.publishStreams()
	e.log.Info("Restored the market", "phase", s.m.Phase().String(), "tick", s.m.LastTick().Seq,
		"traders", len(s.traders), "harvests", len(s.harvests), "batch", s.batch)
	return nil
}

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
	added := false
	for name, v := range all {
		if t, ok := s.traders[name]; ok {
			if v != t.registration {
				t.registration = v
				if info, err := protocol.DecodeTraderInfo(v); err == nil {
					t.team = info.Team
				}
			}
			continue
		}
		if err := protocol.ValidateName("trader", name); err != nil {
			if !s.ignored[name] {
				e.log.Error("Ignored a registered trader with an invalid name", "trader", name, "err", err)
				e.metrics.invalid.WithLabelValues("traders").Inc()
				s.ignored[name] = true
			}
			continue
		}
		info, err := protocol.DecodeTraderInfo(v)
		if err != nil {
			e.log.Error("Registered a trader whose registration cannot be read", "trader", name, "err", err)
			e.metrics.invalid.WithLabelValues("traders").Inc()
		}
		key, results := e.keys.Orders(name), e.keys.Results(name)
		t := &traderState{name: name, team: info.Team, registration: v, ordersKey: key, results: results, recent: newRecentIDs(int(e.opts.ResultsMaxLen)),
			appendResult: []any{"XADD", results, "*"}}
		s.traders[name], s.byStream[key] = t, t
		if s.m.AddTrader(name) {
			s.out.journal = protocol.AppendJournalTrader(s.out.journal, name)
			e.log.Info("Registered a trader", "trader", name, "team", info.Team)
		}
		s.markDirty(t)
		added = true
	}
	if added {
		s.publishStreams()
	}
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
// The reader reads the next batch while this one is applied, and each batch is written to
// Redis while the next one is applied (see send), so the engine's own work and Redis's
// overlap. There is never more than one read at a time, so every trader's orders are
// applied in order. When a read finds nothing, the reader waits for new orders, and
// meanwhile the loop serves the clock and gibbs from people.
func (s *session) loop(ctx context.Context, want chan<- struct{}, batches <-chan *readBatch) error {
	e := s.e
	want <- struct{}{}
	for {
		var b *readBatch
		var req *gibbRequest
		timer := e.clk.NewTimer(s.nextWake())
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case b = <-batches:
			// Read the next orders while this batch is applied and written.
			want <- struct{}{}
		case req = <-e.gibbReqs:
		case <-s.landing():
			// Publish it, and wait on: the clock has its timer, and a batch written is no
			// reason to write another.
			timer.Stop()
			if err := s.wait(); err != nil {
				return err
			}
			continue
		case <-timer.C():
		}
		timer.Stop()
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
		if s.out.empty() && (s.flying != nil || e.clk.Since(s.lastCommit) < e.opts.LeaseTTL/4) {
			continue
		}
		if err := s.send(ctx); err != nil {
			return err
		}
	}
}
