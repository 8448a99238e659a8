package trader_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
	"github.com/monkonomy/monkonomy/market/trader/tradertest"
)

// startMarket runs a real engine on a real redis-server, ticking fast.
func startMarket(t *testing.T, tick time.Duration, opts ...testredis.Option) *tradertest.Market {
	t.Helper()
	return tradertest.Start(t, tick, opts...)
}

// anaAtMarket starts a market with the trader ana registered, and returns it, ana's SDK
// client, and a context that ends after 20s (or with the test) to send and listen with.
func anaAtMarket(t *testing.T) (*tradertest.Market, *trader.Client, context.Context) {
	t.Helper()
	m := startMarket(t, 25*time.Millisecond)
	m.Register(t, "ana")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return m, connect(t, m, "ana"), ctx
}

// connect returns an SDK client of trader, on its own connection.
func connect(t *testing.T, m *tradertest.Market, name string) *trader.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := trader.Connect(ctx, trader.Options{Addr: m.Server.Addr, Market: m.Market.String(), Trader: name,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Block: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recorder wraps a strategy and keeps what it saw, for assertions.
type recorder struct {
	strategy.Strategy
	mu      sync.Mutex
	ticks   []int64
	results []rules.Result
	gibbs   int
}

// OnScoredTick keeps the tick and shows it to the strategy as the runtime would, with the
// market's score when the strategy wants it.
func (r *recorder) OnScoredTick(t rules.Tick, a rules.Account, score int64) []strategy.Action {
	r.mu.Lock()
	r.ticks = append(r.ticks, t.Seq)
	r.mu.Unlock()
	return strategy.Tick(r.Strategy, t, a, score)
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
func play(t *testing.T, m *tradertest.Market, name string, s strategy.Strategy) (rec *recorder, stop func()) {
	t.Helper()
	c := connect(t, m, name)
	rec = &recorder{Strategy: s}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = trader.Run(ctx, c, rec, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return rec, stop
}
