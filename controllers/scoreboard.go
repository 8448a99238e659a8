package controllers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// statusWrites counts the scoreboard's status writes, by kind: the figure that says
// whether the operator keeps its promise of at most one write per object per second.
var statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "monkonomy_operator_status_writes_total",
	Help: "Status writes of the scoreboard, by kind of object.",
}, []string{"kind"})

func init() {
	metrics.Registry.MustRegister(statusWrites)
}

// Scoreboard reads every market's last tick and accounts from Redis once per Interval,
// ranks the traders with the rules, and writes rank, score and holdings into each
// Trader's status and the top three into the Market's. It writes an object only when a
// value changed, at most once per pass, so at most once per Interval.
//
// A pass writes every first rank and Market, and the rest up to Budget writes in all.
// Every tick moves the price, and with it the net worth of every trader holding shares:
// unbounded, a room of 500 Traders would cost 500 status writes a second, which keeps the
// API server too busy to register newcomers. After first ranks and Markets come changed
// ranks and scores, then holdings; among equals, the object written longest ago. What is
// left waits for the next pass, which computes it afresh.
type Scoreboard struct {
	// Cache reads Markets and Traders (the manager's cached client).
	Cache client.Reader
	// Writer patches status; it has its own rate limit, so that scores do not queue
	// behind the reconcilers' writes.
	Writer    client.Client
	APIReader client.Reader
	Redis     *RedisPool
	Clock     clock.PassiveClock
	Interval  time.Duration
	// Workers is how many status writes run at once.
	Workers int
	// Budget is the most status writes of one pass, unless it has more first ranks and
	// Markets to write; 0 means no limit.
	Budget int

	mu   sync.Mutex
	last map[types.UID]lastWrite
}

// lastWrite remembers a write until the cache shows it, so that a lagging cache does not
// cause the same write twice.
type lastWrite struct {
	key string
	at  time.Time
}

// NeedLeaderElection: only the leader writes scores.
func (s *Scoreboard) NeedLeaderElection() bool { return true }

// Start runs passes until ctx ends. A slow pass delays the next one rather than
// overlapping it.
func (s *Scoreboard) Start(ctx context.Context) error {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			log.FromContext(ctx).Error(err, "Scoreboard pass failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass ranks every market once and writes what changed.
func (s *Scoreboard) Pass(ctx context.Context) error {
	var markets v1alpha1.MarketList
	if err := s.Cache.List(ctx, &markets); err != nil {
		return fmt.Errorf("list markets: %w", err)
	}
	var traders v1alpha1.TraderList
	if err := s.Cache.List(ctx, &traders); err != nil {
		return fmt.Errorf("list traders: %w", err)
	}
	byMarket := map[types.NamespacedName][]*v1alpha1.Trader{}
	for i := range traders.Items {
		t := &traders.Items[i]
		if !t.DeletionTimestamp.IsZero() {
			continue
		}
		k := types.NamespacedName{Namespace: t.Namespace, Name: t.Spec.Market}
		byMarket[k] = append(byMarket[k], t)
	}
	now := s.Clock.Now()
	var writes []statusWrite
	var errs []error
	for i := range markets.Items {
		m := &markets.Items[i]
		if !m.DeletionTimestamp.IsZero() {
			continue
		}
		b, err := s.read(ctx, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts := byMarket[client.ObjectKeyFromObject(m)]
		scores := rankTraders(ts, b)
		for i, t := range ts {
			if w, ok := traderWrite(t, scores[i], now); ok {
				writes = append(writes, w)
			}
		}
		if w, ok := marketWrite(m, b, scores, ts, now); ok {
			writes = append(writes, w)
		}
	}
	errs = append(errs, s.write(ctx, writes, now)...)
	return errors.Join(errs...)
}

// Priorities of status writes, most urgent first.
const (
	// priorityNew gives a trader its first rank (or takes it away), and writes Markets:
	// the leaders and the phase.
	priorityNew = iota
	// priorityRank changes a rank or a score: what the leaderboard shows.
	priorityRank
	// priorityHoldings changes only coins, shares, net worth or order counts.
	priorityHoldings
)

// board is what Redis says about one market: its last tick (nil before the first), and
// each trader's account with the score the engine gave it.
type board struct {
	tick     *protocol.Tick
	accounts map[string]rules.Account
	scores   map[string]int64
}

// read fetches a market's last tick and accounts in one round trip.
func (s *Scoreboard) read(ctx context.Context, m *v1alpha1.Market) (*board, error) {
	c, _, err := s.Redis.clientFor(ctx, s.APIReader, m)
	if err != nil {
		return nil, err
	}
	k := marketOf(m).Keys()
	pipe := c.Pipeline()
	ticks := pipe.XRevRangeN(ctx, k.Ticks(), "+", "-", 1)
	accounts := pipe.HGetAll(ctx, k.Accounts())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the scores of market %s: %w", marketOf(m), err)
	}
	b := &board{accounts: make(map[string]rules.Account, len(accounts.Val())), scores: make(map[string]int64, len(accounts.Val()))}
	if msgs := ticks.Val(); len(msgs) > 0 {
		t, err := protocol.DecodeTick(msgs[0])
		if err != nil {
			return nil, fmt.Errorf("read the last tick of market %s: %w", marketOf(m), err)
		}
		b.tick = &t
	}
	for name, v := range accounts.Val() {
		rec, a, err := protocol.DecodeAccount(v)
		if err != nil {
			log.FromContext(ctx).Error(err, "Skipped an account that could not be read", "market", marketOf(m).String(), "trader", name)
			continue
		}
		b.accounts[name], b.scores[name] = a, rec.Score
	}
	return b, nil
}

// traderScore is what the scoreboard shows of one trader; rank 0 means unranked.
type traderScore struct {
	rank     int32
	score    int64
	account  rules.Account
	netWorth rules.Micro
}

// rankTraders ranks the traders that have an account, with the rules' order; scores[i]
// belongs to traders[i]. A trader without an account yet has no rank.
func rankTraders(traders []*v1alpha1.Trader, b *board) []traderScore {
	var price rules.Micro
	if b.tick != nil {
		price = b.tick.Price
	}
	out := make([]traderScore, len(traders))
	standings := make([]rules.Standing, 0, len(traders))
	index := make(map[string]int, len(traders))
	for i, t := range traders {
		a, ok := b.accounts[t.Name]
		if !ok {
			continue
		}
		score := b.scores[t.Name]
		nw := a.Coins + rules.Micro(a.Shares)*price
		out[i] = traderScore{score: score, account: a, netWorth: nw}
		index[t.Name] = i
		standings = append(standings, rules.Standing{Trader: t.Name, Team: t.Spec.Team, Score: score, NetWorth: nw, ScoredAt: a.ScoredAt})
	}
	rules.Rank(standings)
	for _, s := range standings {
		out[index[s.Trader]].rank = int32(s.Rank)
	}
	return out
}

// statusWrite is one merge patch of the scoreboard's fields of one status.
type statusWrite struct {
	obj   client.Object
	kind  string
	patch []byte
	// key is the patch without its timestamps, to recognise a repeated write.
	key      string
	priority int
	// unlocked is the patch to send when patch, tied to the version of the object it was
	// made from, meets a newer one.
	unlocked []byte
}

// traderStatusPatch is the scoreboard's part of a Trader's status.
type traderStatusPatch struct {
	Rank        int32                `json:"rank"`
	Score       int64                `json:"score"`
	MonkeysFed  int64                `json:"monkeysFed"`
	Coins       string               `json:"coins"`
	Shares      int64                `json:"shares"`
	Bailouts    int64                `json:"bailouts"`
	InFlight    int64                `json:"inFlight"`
	NetWorth    string               `json:"netWorth"`
	Orders      v1alpha1.OrderCounts `json:"orders"`
	LastOrderAt *metav1.Time         `json:"lastOrderAt,omitempty"`
	Conditions  []metav1.Condition   `json:"conditions,omitempty"`
}

// traderWrite returns the patch of a Trader's status when the scores changed it.
func traderWrite(t *v1alpha1.Trader, s traderScore, now time.Time) (statusWrite, bool) {
	cur := t.Status
	want := traderStatusPatch{}
	if s.rank > 0 {
		want = traderStatusPatch{
			Rank: s.rank, Score: s.score, MonkeysFed: s.account.Fed, Coins: s.account.Coins.String(),
			Shares: s.account.Shares, Bailouts: s.account.Bailouts, InFlight: s.account.InFlight,
			NetWorth: s.netWorth.String(),
			Orders:   v1alpha1.OrderCounts{Accepted: s.account.Accepted, Rejected: s.account.Rejected},
		}
	}
	have := traderStatusPatch{
		Rank: cur.Rank, Score: cur.Score, MonkeysFed: cur.MonkeysFed, Coins: cur.Coins, Shares: cur.Shares,
		Bailouts: cur.Bailouts, InFlight: cur.InFlight, NetWorth: cur.NetWorth, Orders: cur.Orders,
	}
	if equality.Semantic.DeepEqual(want, have) {
		return statusWrite{}, false
	}
	key, _ := json.Marshal(want)
	if want.Orders != cur.Orders && want.Orders.Accepted+want.Orders.Rejected > 0 {
		at := metav1.NewTime(now)
		want.LastOrderAt = &at
	}
	obj := &v1alpha1.Trader{ObjectMeta: metav1.ObjectMeta{Namespace: t.Namespace, Name: t.Name, UID: t.UID}}
	w := statusWrite{obj: obj, kind: "Trader", key: string(key), priority: priorityHoldings}
	var err error
	if w.patch, err = json.Marshal(map[string]any{"status": want}); err != nil {
		return statusWrite{}, false
	}
	switch {
	case (want.Rank == 0) != (cur.Rank == 0):
		// The first rank brings the Scored condition along, which spares every Trader of
		// a room a second status write by its reconciler. A merge patch replaces the whole
		// list of conditions, so it only applies to the version the list was read from;
		// on a newer one the rank goes alone, and the reconciler sees to the condition.
		w.priority, w.unlocked = priorityNew, w.patch
		want.Conditions = slices.Clone(cur.Conditions)
		meta.SetStatusCondition(&want.Conditions, scoredCondition(t.Generation, want.Rank, metav1.NewTime(now)))
		w.patch, err = json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": t.ResourceVersion},
			"status":   want,
		})
		if err != nil {
			return statusWrite{}, false
		}
	case want.Rank != cur.Rank || want.Score != cur.Score:
		w.priority = priorityRank
	}
	return w, true
}

// marketStatusPatch is the scoreboard's part of a Market's status.
type marketStatusPatch struct {
	Phase    v1alpha1.MarketPhase `json:"phase"`
	Tick     int64                `json:"tick"`
	Price    string               `json:"price"`
	Traders  int32                `json:"traders"`
	Leaders  []v1alpha1.Leader    `json:"leaders"`
	OpenedAt *metav1.Time         `json:"openedAt,omitempty"`
	ClosedAt *metav1.Time         `json:"closedAt,omitempty"`
}

// marketPhase maps the phase of the last tick; no tick yet means Pending.
func marketPhase(t *protocol.Tick) v1alpha1.MarketPhase {
	if t == nil {
		return v1alpha1.MarketPending
	}
	switch t.Phase {
	case rules.PhaseOpen:
		return v1alpha1.MarketOpen
	case rules.PhasePaused:
		return v1alpha1.MarketPaused
	case rules.PhaseClosed:
		return v1alpha1.MarketClosed
	default:
		return v1alpha1.MarketPending
	}
}

// marketWrite returns the patch of a Market's status when the market changed it.
func marketWrite(m *v1alpha1.Market, b *board, scores []traderScore, traders []*v1alpha1.Trader, now time.Time) (statusWrite, bool) {
	want := marketStatusPatch{Phase: marketPhase(b.tick), Traders: int32(len(traders)), Leaders: []v1alpha1.Leader{}}
	if b.tick != nil {
		want.Tick, want.Price = b.tick.Seq, b.tick.Price.String()
	}
	for i, s := range scores {
		if s.rank > 0 && s.rank <= 3 {
			want.Leaders = append(want.Leaders, v1alpha1.Leader{Rank: s.rank, Trader: traders[i].Name, Team: traders[i].Spec.Team, Score: s.score})
		}
	}
	slices.SortFunc(want.Leaders, func(a, b v1alpha1.Leader) int { return cmp.Compare(a.Rank, b.Rank) })
	key, _ := json.Marshal(want)
	cur := m.Status
	want.OpenedAt, want.ClosedAt = cur.OpenedAt, cur.ClosedAt
	if want.OpenedAt == nil && want.Phase != v1alpha1.MarketPending {
		at := metav1.NewTime(now)
		want.OpenedAt = &at
	}
	if want.ClosedAt == nil && want.Phase == v1alpha1.MarketClosed {
		at := metav1.NewTime(now)
		if !b.tick.Time.IsZero() {
			at = metav1.NewTime(b.tick.Time)
		}
		want.ClosedAt = &at
	}
	have := marketStatusPatch{
		Phase: cur.Phase, Tick: cur.Tick, Price: cur.Price, Traders: cur.Traders, Leaders: cur.Leaders,
		OpenedAt: cur.OpenedAt, ClosedAt: cur.ClosedAt,
	}
	if have.Leaders == nil {
		have.Leaders = []v1alpha1.Leader{}
	}
	if equality.Semantic.DeepEqual(want, have) {
		return statusWrite{}, false
	}
	b2, err := json.Marshal(map[string]any{"status": want})
	if err != nil {
		return statusWrite{}, false
	}
	obj := &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, UID: m.UID}}
	return statusWrite{obj: obj, kind: "Market", patch: b2, key: string(key), priority: priorityNew}, true
}

// write sends the patches with Workers at once, the most urgent first and no more than
// Budget, first ranks and Markets excepted. A patch already sent in the last few seconds
// is skipped: the cache has not shown it yet.
func (s *Scoreboard) write(ctx context.Context, writes []statusWrite, now time.Time) []error {
	s.mu.Lock()
	if s.last == nil {
		s.last = map[types.UID]lastWrite{}
	}
	todo := make([]statusWrite, 0, len(writes))
	for _, w := range writes {
		if l, ok := s.last[w.obj.GetUID()]; ok && l.key == w.key && now.Sub(l.at) < 3*s.Interval {
			continue
		}
		todo = append(todo, w)
	}
	slices.SortStableFunc(todo, func(a, b statusWrite) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority),
			s.last[a.obj.GetUID()].at.Compare(s.last[b.obj.GetUID()].at))
	})
	s.mu.Unlock()
	urgent := 0
	for urgent < len(todo) && todo[urgent].priority == priorityNew {
		urgent++
	}
	if s.Budget > 0 && len(todo) > max(s.Budget, urgent) {
		todo = todo[:max(s.Budget, urgent)]
	}

	workers := max(s.Workers, 1)
	jobs := make(chan statusWrite)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for w := range jobs {
				err := s.Writer.Status().Patch(ctx, w.obj, client.RawPatch(types.MergePatchType, w.patch))
				if apierrors.IsConflict(err) && w.unlocked != nil {
					err = s.Writer.Status().Patch(ctx, w.obj, client.RawPatch(types.MergePatchType, w.unlocked))
				}
				if apierrors.IsNotFound(err) {
					continue
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("write the scores of %s %s: %w", w.kind, w.obj.GetName(), err))
					mu.Unlock()
					continue
				}
				statusWrites.WithLabelValues(w.kind).Inc()
				s.mu.Lock()
				s.last[w.obj.GetUID()] = lastWrite{key: w.key, at: now}
				s.mu.Unlock()
			}
		})
	}
	for _, w := range todo {
		select {
		case jobs <- w:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	s.forget(writes)
	return errs
}

// forget drops memories of objects that no longer need writes, so the map does not grow
// with deleted objects.
func (s *Scoreboard) forget(writes []statusWrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.last) <= 2*len(writes)+64 {
		return
	}
	keep := make(map[types.UID]bool, len(writes))
	for _, w := range writes {
		keep[w.obj.GetUID()] = true
	}
	for uid := range s.last {
		if !keep[uid] {
			delete(s.last, uid)
		}
	}
}
