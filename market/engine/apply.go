package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// applyBatch applies the orders and inbox entries of one read, in stream order.
func (s *session) applyBatch(ctx context.Context, b *readBatch) error {
	e := s.e
	if err := s.loadSeen(ctx, b); err != nil {
		return err
	}
	if len(b.streams) == 0 {
		return nil
	}
	oldest, n := int64(-1), 0
	for _, st := range b.streams {
		if len(st.Messages) == 0 {
			continue
		}
		n += len(st.Messages)
		s.out.cursor(st.Stream, st.Messages[len(st.Messages)-1].ID)
		if st.Stream == e.keys.Inbox() {
			for _, msg := range st.Messages {
				s.applyInbox(msg)
			}
			continue
		}
		// Entry ids grow along a stream: its first entry is its oldest.
		if ms := entryMs(st.Messages[0].ID); ms > 0 && (oldest < 0 || ms < oldest) {
			oldest = ms
		}
		// The reader reads the inbox and the streams of registered traders only.
		t := s.byStream[st.Stream]
		for _, msg := range st.Messages {
			if err := s.applyOrder(ctx, t, msg); err != nil {
				return err
			}
		}
		s.appliedOrders(t, st.Messages[len(st.Messages)-1].ID, len(st.Messages))
	}
	if oldest > 0 {
		e.metrics.lag.Set(max(0, float64(b.read.UnixMilli()-oldest)/1000))
	}
	e.metrics.batchSize.Observe(float64(n))
	return nil
}

// appliedOrders counts the orders of a trader that a batch applied, up to its entry last.
// Each time the count reaches ResultsMaxLen, the batch trims the trader's orders stream to
// the mark of the time before (XTRIM MINID ~): the engine never reads an order again once
// its cursor is past it, and the journal holds every order applied. The stream keeps the
// trader's latest orders, about as many as its results stream keeps results, and every
// order not applied yet. (Approximate trimming drops whole nodes of a stream only: never
// an entry at or after the mark.) Unbounded, the orders streams held a quarter of what
// Redis kept per order in the engine's throughput benchmark (26 of 106 bytes).
func (s *session) appliedOrders(t *traderState, last string, n int) {
	t.applied += int64(n)
	if t.applied < s.e.opts.ResultsMaxLen {
		return
	}
	if t.ordersMark != "" {
		s.out.trimOrders = append(s.out.trimOrders, streamMark{t.ordersKey, t.ordersMark})
	}
	t.ordersMark, t.applied = last, 0
}

// entryMs is the millisecond part of a stream entry id (0 when it is none).
func entryMs(id string) int64 {
	e, _ := parseStreamID(id)
	return int64(e.ms)
}

// applyOrder applies one order, or answers a retried order id with its first result.
func (s *session) applyOrder(ctx context.Context, t *traderState, msg redis.XMessage) error {
	e := s.e
	o := protocol.DecodeOrder(t.name, msg.ID, msg.Values)
	if o.Invalid != "" {
		e.metrics.invalid.WithLabelValues("orders").Inc()
		e.log.Info("Received an order that cannot be understood", "trader", t.name, "entry", msg.ID, "reason", o.Invalid)
	}
	if o.ID != msg.ID {
		// The same id earlier in this batch, or in the batch on its way to Redis.
		if first, ok := s.out.sameBatch(t, o.ID); ok {
			s.repeat(t, s.out, first)
			return nil
		}
		if f := s.flying; f != nil {
			if first, ok := f.o.sameBatch(t, o.ID); ok {
				s.repeat(t, f.o, first)
				return nil
			}
		}
		if entry, ok := t.recent.lookup(o.ID); ok {
			if repeated, err := s.repeatCommitted(ctx, t, o.ID, entry); repeated || err != nil {
				return err
			}
		}
	}
	res := s.m.Apply(o)
	s.out.journal = protocol.AppendJournalOrder(s.out.journal, o, res.Status)
	s.out.result(t, rememberedID(o.ID, msg.ID), res, msg.ID)
	s.markDirty(t)
	s.count(res.Status)
	if res.Plantation != nil {
		s.plant(*res.Plantation)
	}
	if res.Gibb != nil {
		s.out.gibb(s, *res.Gibb)
	}
	return nil
}

// rememberedID is the id of an order to remember for retries: none for an order without an
// id of its own, which goes by its entry id, and no later order has that.
func rememberedID(id, orderEntry string) string {
	if id == orderEntry {
		return ""
	}
	return id
}

// repeatCommitted answers a retried order id with the result it got in an earlier batch,
// found at entry. It reports false when that result is another id's (one with the same
// hash: see recentIDs): the order is new.
func (s *session) repeatCommitted(ctx context.Context, t *traderState, id, entry string) (bool, error) {
	msgs, err := s.e.rdb.XRange(ctx, t.results, entry, entry).Result()
	if err != nil {
		return false, fmt.Errorf("read the first result of order %s of trader %s: %w", id, t.name, err)
	}
	if len(msgs) == 0 {
		// Trimmed by someone else than the engine: the first result is gone. (A new id
		// with the hash of the id it was would be refused too: one chance in 2^64.)
		s.out.result(t, "", rules.Result{Trader: t.name, ID: id, Status: rules.StatusInvalid,
			Reason: "order id " + id + " was used before and its result is no longer kept: use a new id",
			Tick:   s.m.LastTick().Seq, Price: s.m.LastTick().Price}, "")
		return true, nil
	}
	if msgs[0].Values[protocol.FieldID] != id {
		return false, nil
	}
	s.out.rawResult(t, msgs[0].Values)
	s.countRepeated()
	return true, nil
}

// repeat answers a retried order id with the result the same id got in an outbox not
// written yet.
func (s *session) repeat(t *traderState, from *outbox, first int) {
	s.out.copyResult(t, from, first)
	s.countRepeated()
}

// loadSeen reads the ids of the latest results of the batch's traders that were not read
// yet in this session, several traders per round trip. A restarted engine reads them for
// every trader at once, which may take a while: it renews the lease in between.
func (s *session) loadSeen(ctx context.Context, b *readBatch) error {
	var load []*traderState
	for _, st := range b.streams {
		// A stream is in a batch once (see readBatch): a trader loaded twice would fill its
		// ring with its own ids again and forget them.
		if t := s.byStream[st.Stream]; t != nil && !t.loaded && len(st.Messages) > 0 {
			load = append(load, t)
		}
	}
	if len(load) > 0 {
		// Their results of the batch on its way to Redis are remembered when it is written:
		// read after it, so that none is remembered twice.
		if err := s.wait(); err != nil {
			return err
		}
	}
	const perTrip = 10
	for len(load) > 0 {
		chunk := load[:min(perTrip, len(load))]
		load = load[len(chunk):]
		if err := s.loadSeenOf(ctx, chunk); err != nil {
			return err
		}
		if len(load) > 0 && s.e.clk.Since(s.lastCommit) >= s.e.opts.LeaseTTL/4 {
			if err := s.commit(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *session) loadSeenOf(ctx context.Context, load []*traderState) error {
	n := s.e.opts.ResultsMaxLen
	p := s.e.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(load))
	for i, t := range load {
		cmds[i] = p.XRevRangeN(ctx, t.results, "+", "-", n)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read the latest results of %d traders: %w", len(load), err)
	}
	for i, t := range load {
		msgs, err := cmds[i].Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read the latest results of trader %s: %w", t.name, err)
		}
		// Oldest first, as they were written: a retried id's first result, then its repeats.
		ids := make(map[string]bool, len(msgs))
		for i := len(msgs) - 1; i >= 0; i-- {
			v := msgs[i].Values
			id, _ := v[protocol.FieldID].(string)
			order, _ := v[protocol.FieldOrder].(string)
			if id = rememberedID(id, order); ids[id] || v[protocol.FieldKind] == rules.KindHarvest.String() {
				id = "" // a repeat or a harvest
			}
			ids[id] = true
			t.recent.add(id, msgs[i].ID)
		}
		t.loaded = true
	}
	return nil
}

// plant stores an accepted investment until its harvest.
func (s *session) plant(p rules.Plantation) {
	item := harvestItem{p: p, member: plantationMember(p)}
	s.harvests.push(item)
	s.out.zadd = append(s.out.zadd, redis.Z{Score: float64(p.DueMs), Member: item.member})
}

// harvest credits a due plantation.
func (s *session) harvest(h harvestItem) {
	t := s.traders[h.p.Trader]
	res := s.m.Harvest(h.p)
	s.out.zrem = append(s.out.zrem, h.member)
	s.out.journal = protocol.AppendJournalHarvest(s.out.journal, h.p)
	if t == nil {
		s.e.log.Error("Dropped the harvest of a trader that is no longer registered", "trader", h.p.Trader, "order", h.p.OrderID)
		return
	}
	s.out.result(t, "", res, "")
	s.markDirty(t)
	s.count(res.Status)
}

// applyInbox applies a person's gibb or a phase command from the inbox.
func (s *session) applyInbox(msg redis.XMessage) {
	e := s.e
	in, err := protocol.DecodeInbox(msg.Values)
	if err != nil {
		e.metrics.invalid.WithLabelValues("inbox").Inc()
		e.log.Info("Ignored an inbox entry that cannot be understood", "entry", msg.ID, "reason", err)
		return
	}
	switch in.Kind {
	case protocol.InboxGibb:
		if _, st, reason := s.postGibb(in.Author, in.Text); st != rules.StatusAccepted {
			e.log.Info("Refused a gibb from the inbox", "author", in.Author, "status", st.String(), "reason", reason)
		}
	case protocol.InboxPhase:
		target := in.Phase.Target()
		if in.Phase == protocol.PhasePause || target == rules.PhaseOpen {
			s.pausedBy = ""
		}
		s.setPhase(target)
	}
}

// postGibb applies a person's gibb.
func (s *session) postGibb(author, text string) (protocol.Gibb, rules.Status, string) {
	g, st, reason := s.m.PostGibb(author, text)
	if st != rules.StatusAccepted {
		return protocol.Gibb{}, st, reason
	}
	s.out.journal = protocol.AppendJournalGibb(s.out.journal, author, text)
	return s.out.gibb(s, g), st, reason
}

// plantationMember is a harvest's member in the harvests sorted set.
func plantationMember(p rules.Plantation) string {
	var b strings.Builder
	b.WriteString(`{"trader":"`)
	b.WriteString(p.Trader)
	b.WriteString(`","order":"`)
	b.WriteString(p.OrderID)
	b.WriteString(`","coins":"`)
	b.WriteString(p.Coins.String())
	b.WriteString(`","credit":"`)
	b.WriteString(p.Credit.String())
	fmt.Fprintf(&b, `","due":%d}`, p.DueMs)
	return b.String()
}

// count counts an answered order by status. The counters are looked up once per session:
// finding a labelled counter costs more than applying an order.
func (s *session) count(st rules.Status) {
	if int(st) >= len(s.counters) {
		s.counters = append(s.counters, make([]prometheus.Counter, int(st)+1-len(s.counters))...)
	}
	c := s.counters[st]
	if c == nil {
		c = s.e.metrics.orders.WithLabelValues(st.String())
		s.counters[st] = c
	}
	c.Inc()
}

// countRepeated counts a retried order id answered again with its first result.
func (s *session) countRepeated() {
	if s.repeated == nil {
		s.repeated = s.e.metrics.orders.WithLabelValues("repeated")
	}
	s.repeated.Inc()
}
