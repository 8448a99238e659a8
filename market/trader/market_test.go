package trader_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// testMarket is a real engine on a real redis-server, ticking fast.
type testMarket struct {
	srv    *testredis.Server
	rdb    *redis.Client
	market protocol.Market
	keys   protocol.Keys
}

func startMarket(t *testing.T, tick time.Duration, opts ...testredis.Option) *testMarket {
	t.Helper()
	srv := testredis.Start(t, opts...)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	mk := protocol.Market{Namespace: "default", Name: "test"}
	seed := uint64(7)
	e, err := engine.New(engine.Options{
		Redis: rdb, Market: mk,
		Settings: protocol.Settings{TickInterval: protocol.Duration{Duration: tick}, Seed: &seed},
		Log:      slog.New(slog.NewTextHandler(engineLog, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &testMarket{srv: srv, rdb: rdb, market: mk, keys: mk.Keys()}
}

// register adds traders to the market, as the operator or the arena does.
func (m *testMarket) register(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := m.rdb.HSet(context.Background(), m.keys.Traders(), n, protocol.EncodeTraderInfo(protocol.TraderInfo{Team: n})).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// connect returns an SDK client of trader, on its own connection.
func (m *testMarket) connect(t *testing.T, name string) *trader.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := trader.Connect(ctx, trader.Options{Addr: m.srv.Addr, Market: m.market.String(), Trader: name,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Block: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// account reads a trader's account from the engine's accounts hash (zero before the
// engine wrote it).
func (m *testMarket) account(t *testing.T, name string) (rules.Account, int64) {
	t.Helper()
	v, err := m.rdb.HGet(context.Background(), m.keys.Accounts(), name).Result()
	if errors.Is(err, redis.Nil) {
		return rules.Account{}, 0
	}
	if err != nil {
		t.Fatalf("account of %s: %v", name, err)
	}
	rec, a, err := protocol.DecodeAccount(v)
	if err != nil {
		t.Fatal(err)
	}
	return a, rec.Score
}

// lastTick is the latest tick number published.
func (m *testMarket) lastTick(t *testing.T) int64 {
	msgs, err := m.rdb.XRevRangeN(context.Background(), m.keys.Ticks(), "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0
	}
	tk, err := protocol.DecodeTick(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	return tk.Seq
}

// eventually polls cond every 10ms until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recorder wraps a strategy and keeps what it saw, for assertions.
type recorder struct {
	strategy.Strategy
	mu      sync.Mutex
	ticks   []int64
	results []rules.Result
	gibbs   int
}

func (r *recorder) OnTick(t rules.Tick, a rules.Account) []strategy.Action {
	r.mu.Lock()
	r.ticks = append(r.ticks, t.Seq)
	r.mu.Unlock()
	return r.Strategy.OnTick(t, a)
}

func (r *recorder) OnResult(res rules.Result) []strategy.Action {
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
	if h, ok := r.Strategy.(strategy.ResultHandler); ok {
		return h.OnResult(res)
	}
	return nil
}

func (r *recorder) OnGibb(g rules.GibbEffect) []strategy.Action {
	r.mu.Lock()
	r.gibbs++
	r.mu.Unlock()
	if h, ok := r.Strategy.(strategy.GibbHandler); ok {
		return h.OnGibb(g)
	}
	return nil
}

func (r *recorder) snapshot() (ticks []int64, results []rules.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.ticks...), append([]rules.Result(nil), r.results...)
}

// play runs strategy s live as trader name until the returned stop is called.
func (m *testMarket) play(t *testing.T, name string, s strategy.Strategy) (rec *recorder, stop func()) {
	t.Helper()
	c := m.connect(t, name)
	rec = &recorder{Strategy: s}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = trader.Run(ctx, c, rec, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return rec, stop
}

// engineLog receives the engine's log lines; set MONKONOMY_TEST_ENGINE_LOG=1 to see them.
var engineLog = func() io.Writer {
	if os.Getenv("MONKONOMY_TEST_ENGINE_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()
