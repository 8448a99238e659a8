package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// outbox collects everything one batch writes, for one MULTI/EXEC.
type outbox struct {
	args    []any   // backing store of command arguments, reused between batches
	cmds    [][]any // commands inside MULTI/EXEC, in order
	results []pendingResult
	byID    map[resultKey]int // index in results of an order id of this batch
	journal []byte
	dirty   []*traderState
	trim    []*traderState // traders whose results stream this batch trims
	zadd    []redis.Z
	zrem    []any
	cursors []any // HSET arguments: stream key, entry id of its last entry in this batch
	json    []byte

	trimOrders []streamMark // orders streams this batch trims, each to its entries from the mark on

	events   []event
	replies  []pendingReply
	ticked   bool
	announce bool  // rebuild the HTTP view after the commit
	phased   bool  // the phase changed
	view     *view // the HTTP view as of this batch, when it changed
}

// streamMark is an entry of a stream.
type streamMark struct{ stream, id string }

type pendingResult struct {
	t   *traderState
	id  string // order id to remember, "" for none
	cmd int    // index in cmds
}

type pendingReply struct {
	req  *gibbRequest
	gibb protocol.Gibb
}

func (o *outbox) empty() bool {
	return len(o.cmds) == 0 && len(o.journal) == 0 && len(o.dirty) == 0 && len(o.zadd) == 0 &&
		len(o.zrem) == 0 && len(o.cursors) == 0 && len(o.replies) == 0 && !o.announce
}

// cmd starts a command in the argument store; end closes it.
func (o *outbox) cmd(args ...any) int {
	start := len(o.args)
	o.args = append(o.args, args...)
	return start
}

func (o *outbox) end(start int) {
	o.cmds = append(o.cmds, o.args[start:len(o.args):len(o.args)])
}

// cursor moves the cursor of a stream to the last entry of it this batch applied.
func (o *outbox) cursor(stream, last string) {
	o.cursors = append(o.cursors, stream, last)
}

// resultKey is a trader's order id.
type resultKey struct {
	t  *traderState
	id string
}

func (o *outbox) sameBatch(t *traderState, id string) (int, bool) {
	i, ok := o.byID[resultKey{t, id}]
	return i, ok
}

// result queues a result entry; id, when set, is remembered for retries.
func (o *outbox) result(t *traderState, id string, r rules.Result, orderEntry string) {
	start := o.cmd(t.appendResult...)
	o.args = protocol.AppendResult(o.args, r, orderEntry)
	o.end(start)
	if id != "" {
		if o.byID == nil {
			o.byID = map[resultKey]int{}
		}
		o.byID[resultKey{t, id}] = len(o.results)
	}
	o.queued(t, id)
}

// trimEvery is how many results a trader gets between trims of its results stream: as
// many as a node of a stream holds by default (stream-node-max-entries), which is what
// XTRIM ~ removes at a time.
const trimEvery = 100

// queued records the result entry just queued for a trader.
func (o *outbox) queued(t *traderState, id string) {
	o.results = append(o.results, pendingResult{t: t, id: id, cmd: len(o.cmds) - 1})
	t.untrimmed++
	if t.untrimmed == trimEvery {
		// One trim per stream and batch, however many results it has in it.
		if !slices.Contains(o.trim, t) {
			o.trim = append(o.trim, t)
		}
		t.untrimmed = 0
	}
}

// copyResult queues again a result of this or another outbox (a retried id of this batch or
// of the batch on its way to Redis).
func (o *outbox) copyResult(t *traderState, from *outbox, first int) {
	o.end(o.cmd(from.cmds[from.results[first].cmd]...))
	o.queued(t, "")
}

// rawResult queues a result whose fields were read back from results:<trader>.
func (o *outbox) rawResult(t *traderState, values map[string]any) {
	start := o.cmd(t.appendResult...)
	for _, f := range resultFieldOrder {
		if v, ok := values[f]; ok {
			o.args = append(o.args, f, v)
		}
	}
	o.end(start)
	o.queued(t, "")
}

var resultFieldOrder = []string{protocol.FieldVersion, protocol.FieldID, protocol.FieldOrder, protocol.FieldKind,
	protocol.FieldStatus, protocol.FieldReason, protocol.FieldTick, protocol.FieldPrice, protocol.FieldCoins,
	protocol.FieldShares, protocol.FieldFed, protocol.FieldBailouts, protocol.FieldInFlight, protocol.FieldScore,
	protocol.FieldCredit}

func (o *outbox) journalConfig(cfg rules.Config) {
	o.journal, _ = protocol.AppendJournalConfig(o.journal, cfg) // a Config always marshals
}

// tick publishes a tick.
func (o *outbox) tick(s *session, t rules.Tick) {
	pt := protocol.TickFromRules(t, s.e.clk.Now())
	o.tickEntry(s, pt)
	o.journal = protocol.AppendJournalTick(o.journal, t)
	o.events = append(o.events, event{name: "tick", data: pt})
	o.ticked = true
}

// phaseTick announces a phase change with an entry of the latest tick in the new phase.
func (o *outbox) phaseTick(s *session, p rules.Phase) {
	pt := protocol.TickFromRules(s.m.LastTick(), s.e.clk.Now())
	pt.Phase, pt.MarketMs = p, s.m.TimeMs()
	o.tickEntry(s, pt)
	o.announce, o.phased = true, true
}

// tickEntry queues an entry of the ticks stream.
func (o *outbox) tickEntry(s *session, pt protocol.Tick) {
	start := o.cmd("XADD", s.e.keys.Ticks(), "MAXLEN", "~", s.e.opts.TicksMaxLen, "*")
	o.args = protocol.AppendTick(o.args, pt)
	o.end(start)
}

// gibb publishes an applied gibb on the public feed.
func (o *outbox) gibb(s *session, g rules.GibbEffect) protocol.Gibb {
	pg := protocol.GibbFromRules(g, s.e.clk.Now())
	start := o.cmd("XADD", s.e.keys.Gibbs(), "MAXLEN", "~", s.e.opts.GibbsMaxLen, "*")
	o.args = protocol.AppendGibb(o.args, pg)
	o.end(start)
	o.events = append(o.events, event{name: "gibb", data: pg})
	return pg
}

// watch watches the lease for the next transaction and reads who holds it.
func (s *session) watch(ctx context.Context) error {
	p := s.conn.Pipeline()
	// The connection may come from the pool with a watch of an earlier session, which taking
	// the lease since then has spoiled: every transaction would fail.
	p.Do(ctx, "UNWATCH")
	p.Do(ctx, "WATCH", s.e.keys.Lease())
	get := p.Get(ctx, s.e.keys.Lease())
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("watch lease: %w", err)
	}
	s.watched = get.Val()
	return nil
}

// flight is a batch on its way to Redis: its MULTI/EXEC is being written while the session
// applies the next batch.
type flight struct {
	o     *outbox
	pipe  redis.Pipeliner // MULTI … EXEC, then WATCH and GET of the lease
	cmds  []redis.Cmder   // the commands of pipe, once written
	exec  *redis.Cmd
	get   *redis.StringCmd
	began time.Time
	wrote time.Time // when Redis answered; read after done is closed
	done  chan struct{}
}

// commit writes the outbox and waits until Redis has it.
func (s *session) commit(ctx context.Context) error {
	if err := s.send(ctx); err != nil {
		return err
	}
	return s.wait()
}

// send writes the outbox in one MULTI/EXEC that only succeeds while this engine holds the
// lease, and watches the lease again for the next one in the same round trip. It does not
// wait for Redis: the session goes on applying the next batch into a fresh outbox while
// this one is written, and only the next send (or wait) waits for it. Nothing of a batch is
// published (results remembered, events, gibb replies, the HTTP view) before its EXEC
// succeeded, and a batch is sent only after the one before it succeeded, so a lost lease
// stops the session with nothing of the applied but unwritten batch visible.
func (s *session) send(ctx context.Context) error {
	if err := s.wait(); err != nil {
		return err
	}
	e, k, o := s.e, s.e.keys, s.out
	if s.watched != s.token {
		return errLeaseLost
	}
	began := e.clk.Now()
	p := s.conn.Pipeline()
	p.Do(ctx, "MULTI")
	for _, c := range o.cmds {
		p.Do(ctx, c...)
	}
	// A results stream is trimmed after every trimEvery results, not with every result:
	// a result has fewer arguments to write and parse, and a batch with a result or two
	// for each trader does not pay for a trim each. Like MAXLEN ~ on XADD, XTRIM ~ keeps
	// at least as many entries as asked.
	for _, t := range o.trim {
		p.Do(ctx, "XTRIM", t.results, "MAXLEN", "~", e.opts.ResultsMaxLen)
	}
	for _, m := range o.trimOrders {
		p.Do(ctx, "XTRIM", m.stream, "MINID", "~", m.id)
	}
	if len(o.journal) > 0 {
		s.batch++
		p.Do(ctx, "XADD", k.Journal(), "*", protocol.FieldVersion, protocol.Version,
			protocol.FieldBatch, s.batch, protocol.FieldEvents, o.journal)
	}
	if len(o.dirty) > 0 {
		hset := make([]any, 0, 2+2*len(o.dirty))
		zadd := make([]any, 0, 2+2*len(o.dirty))
		hset = append(hset, "HSET", k.Accounts())
		zadd = append(zadd, "ZADD", k.Scores())
		penalty := s.m.Config().BailoutPenalty
		o.json = o.json[:0]
		for _, t := range o.dirty {
			a, _ := s.m.Account(t.name)
			start := len(o.json)
			score := a.Score(penalty)
			o.json = protocol.AppendAccountJSON(o.json, a, score)
			hset = append(hset, t.name, o.json[start:len(o.json):len(o.json)])
			// Buying and selling change the account, not the score.
			if !t.scored || score != t.score {
				zadd = append(zadd, score, t.name)
				t.score, t.scored = score, true
			}
			// The next batch marks it again when it changes it.
			t.dirty = false
		}
		p.Do(ctx, hset...)
		if len(zadd) > 2 {
			p.Do(ctx, zadd...)
		}
	}
	// Inside MULTI every reply is QUEUED: commands go through Do, whose reply is untyped.
	if len(o.zadd) > 0 {
		args := make([]any, 0, 2+2*len(o.zadd))
		args = append(args, "ZADD", k.Harvests())
		for _, z := range o.zadd {
			args = append(args, z.Score, z.Member)
		}
		p.Do(ctx, args...)
	}
	if len(o.zrem) > 0 {
		p.Do(ctx, append([]any{"ZREM", k.Harvests()}, o.zrem...)...)
	}
	if len(o.cursors) > 0 {
		p.Do(ctx, append([]any{"HSET", k.Cursors()}, o.cursors...)...)
	}
	st, err := json.Marshal(s.m.State())
	if err != nil {
		return fmt.Errorf("encode market state: %w", err)
	}
	p.Do(ctx, "HSET", k.State(), stateRules, st, stateConfig, e.cfgJSON, stateBatch, s.batch,
		statePausedBy, s.pausedBy, stateUpdated, protocol.FormatTime(began))
	p.Do(ctx, "SET", k.Lease(), s.token, "PX", e.opts.LeaseTTL.Milliseconds())
	f := &flight{o: o, pipe: p, began: began, done: make(chan struct{})}
	f.exec = p.Do(ctx, "EXEC")
	p.Do(ctx, "WATCH", k.Lease())
	f.get = p.Get(ctx, k.Lease())
	// What the HTTP API will show once the batch is written: the market as of this batch,
	// not as of the next one, which is applied meanwhile.
	// (The first batch of a session announces the market: see start.)
	if o.ticked || o.announce {
		o.view = s.buildView()
	}
	s.writes <- f // the writer is free: the flight before this one has landed
	s.flying = f
	s.out, s.spare = s.spare, o
	return nil
}

// write writes the batches sent to it, one at a time, until writes is closed. One
// goroutine writes every batch of a session: a goroutine of its own for each batch would
// grow its stack again for each, to the depth of go-redis's pipeline (at 10,000 orders/s,
// about 6 % of the engine's CPU).
func (s *session) write(ctx context.Context, writes <-chan *flight) {
	for f := range writes {
		f.cmds, _ = f.pipe.Exec(ctx)
		f.wrote = s.e.clk.Now()
		close(f.done)
	}
}

// refused returns the command Redis refused to queue, and why, when it discarded the
// flight's transaction (EXECABORT, the error of its EXEC): only the answer to that command
// says why (a full Redis's OOM, say).
func (f *flight) refused(execErr error) (redis.Cmder, error) {
	if !strings.HasPrefix(execErr.Error(), "EXECABORT") {
		return nil, nil
	}
	for _, c := range f.cmds {
		if c == f.exec {
			break
		}
		if err := c.Err(); err != nil {
			return c, err
		}
	}
	return nil, nil
}

// wait waits until the batch on its way to Redis is written, and publishes it.
func (s *session) wait() error {
	f := s.flying
	if f == nil {
		return nil
	}
	<-f.done
	s.flying = nil
	err := s.landed(f)
	if err != nil {
		refuse(f.o.replies)
	} else {
		s.published(f.o)
	}
	f.o.reset()
	return err
}

// landing is closed when the batch on its way to Redis is written (nil when none is).
func (s *session) landing() <-chan struct{} {
	if s.flying == nil {
		return nil
	}
	return s.flying.done
}

// landed checks how the EXEC of a flight went and remembers the results it wrote.
func (s *session) landed(f *flight) error {
	e := s.e
	if err := f.exec.Err(); err != nil {
		if errors.Is(err, redis.Nil) {
			return errLeaseLost
		}
		if c, cause := f.refused(err); cause != nil {
			return fmt.Errorf("write batch to Redis: it refused %s: %w", c.Name(), cause)
		}
		return fmt.Errorf("write batch to Redis: %w", err)
	}
	replies, _ := f.exec.Val().([]any)
	for i, r := range replies {
		if err, ok := r.(error); ok {
			return fmt.Errorf("write batch to Redis: command %d: %w", i, err)
		}
	}
	if err := f.get.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("watch lease: %w", err)
	}
	s.watched = f.get.Val()
	for _, r := range f.o.results {
		id, _ := replies[r.cmd].(string)
		if r.t.loaded {
			r.t.recent.add(r.id, id)
		}
	}
	s.lastCommit = f.began // the lease was renewed no earlier
	e.metrics.apply.Observe(f.wrote.Sub(f.began).Seconds())
	return nil
}

// refuse answers gibbs from people that were not saved.
func refuse(replies []pendingReply) {
	for _, r := range replies {
		r.req.reply <- gibbReply{status: http.StatusServiceUnavailable, err: "the engine stopped before the gibb was saved; post it again"}
	}
}

// reset empties an outbox for a later batch, keeping its memory.
func (o *outbox) reset() {
	clear(o.args)
	o.args = o.args[:0]
	o.cmds = o.cmds[:0]
	o.results = o.results[:0]
	clear(o.byID)
	o.journal = o.journal[:0]
	o.dirty = o.dirty[:0]
	o.trim = o.trim[:0]
	o.trimOrders = o.trimOrders[:0]
	o.zadd = o.zadd[:0]
	o.zrem = o.zrem[:0]
	clear(o.cursors)
	o.cursors = o.cursors[:0]
	o.events = o.events[:0]
	o.replies = o.replies[:0]
	o.ticked, o.announce, o.phased = false, false, false
	o.view = nil
}

// published tells the world what a written batch made true: events, replies, the view.
func (s *session) published(o *outbox) {
	e := s.e
	for _, r := range o.replies {
		r.req.reply <- gibbReply{status: 202, gibb: &r.gibb}
	}
	for _, ev := range o.events {
		e.hub.publish(ev)
	}
	if v := o.view; v != nil {
		e.view.Store(v)
		if o.phased {
			e.hub.publish(event{name: "phase", data: v.market})
		}
		e.hub.publish(event{name: "leaderboard", data: v.leaderboard})
	}
}
