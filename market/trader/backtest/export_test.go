package backtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
	"github.com/monkonomy/monkonomy/market/trader/tradertest"
)

func TestBacktestOfAnExportedGameIsDeterministic(t *testing.T) {
	// A real game: an engine, a feeder playing live and a person's gibb, exported as
	// `monkonomy export` does.
	m := tradertest.Start(t, 20*time.Millisecond)
	m.Register(t, "live")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := trader.Connect(ctx, trader.Options{Redis: m.Redis, Market: m.Market.String(), Trader: "live"})
	if err != nil {
		t.Fatal(err)
	}
	playCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = trader.Run(playCtx, c, mustNew(t, "feeder", nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	testutil.Eventually(t, 20*time.Second, "10 ticks", func() bool { return c.LastTick().Seq >= 10 })
	gibb := protocol.AppendInbox(nil, protocol.Inbox{Kind: protocol.InboxGibb, Author: "ana", Text: "banana up #mktd"})
	if err := m.Redis.XAdd(ctx, &redis.XAddArgs{Stream: m.Keys.Inbox(), Values: gibb}).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "40 ticks", func() bool { return c.LastTick().Seq >= 40 })
	stop()
	<-done
	dir := t.TempDir()
	if _, err := engine.Export(ctx, m.Redis, m.Market, dir); err != nil {
		t.Fatal(err)
	}
	ticks, err := os.ReadFile(filepath.Join(dir, "ticks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	gibbs, err := os.ReadFile(filepath.Join(dir, "gibbs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := rules.Config{Seed: 7, TickInterval: 20 * time.Millisecond}
	for _, name := range strategy.Names() {
		out1, csv1 := runBacktest(t, mustNew(t, name, nil), ticks, gibbs, cfg, "live")
		out2, csv2 := runBacktest(t, mustNew(t, name, nil), ticks, gibbs, cfg, "live")
		if out1 != out2 || csv1 != csv2 {
			t.Fatalf("%s: two backtests of the same export differ:\n%s\n%s", name, out1, out2)
		}
		if !strings.Contains(out1, "with 1 recorded gibb.") || strings.Count(csv1, "\n") < 41 {
			t.Fatalf("%s: the backtest played too little:\n%s", name, out1)
		}
	}
	// The feeder's backtest trades like the feeder that played live: same kind of game.
	out, _ := runBacktest(t, mustNew(t, "feeder", nil), ticks, gibbs, cfg, "live")
	live, _ := m.Account(t, "live")
	if live.Fed == 0 || !bytes.Contains([]byte(out), []byte("bailouts 0")) {
		t.Fatalf("live feeder fed %d; backtest:\n%s", live.Fed, out)
	}
}
