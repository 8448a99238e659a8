// Package tradertest runs a real market for tests of traders: a redis-server of the test's
// own and an engine in-process, ticking as fast as the test asks.
package tradertest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Market is a real engine on a real redis-server.
type Market struct {
	Server *testredis.Server
	Redis  *redis.Client // an admin client
	Market protocol.Market
	Keys   protocol.Keys
}

// Start runs market default/test with the given tick interval until the test ends. The
// engine's log is discarded unless MONKONOMY_TEST_ENGINE_LOG is set.
func Start(t testing.TB, tick time.Duration, opts ...testredis.Option) *Market {
	t.Helper()
	srv := testredis.Start(t, opts...)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	mk := protocol.Market{Namespace: "default", Name: "test"}
	seed := uint64(7)
	out := io.Discard
	if os.Getenv("MONKONOMY_TEST_ENGINE_LOG") != "" {
		out = os.Stderr
	}
	e, err := engine.New(engine.Options{
		Redis: rdb, Market: mk,
		Settings: protocol.Settings{TickInterval: protocol.Duration{Duration: tick}, Seed: &seed},
		Log:      slog.New(slog.NewTextHandler(out, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &Market{Server: srv, Redis: rdb, Market: mk, Keys: mk.Keys()}
}

// Register adds traders to the market, as the operator or the arena does.
func (m *Market) Register(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		info := protocol.EncodeTraderInfo(protocol.TraderInfo{Team: n})
		if err := m.Redis.HSet(context.Background(), m.Keys.Traders(), n, info).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Account reads a trader's account from the engine's accounts hash (zero before the
// engine wrote it).
func (m *Market) Account(t testing.TB, name string) (rules.Account, int64) {
	t.Helper()
	v, err := m.Redis.HGet(context.Background(), m.Keys.Accounts(), name).Result()
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
