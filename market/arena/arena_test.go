package arena

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// fastArena is an arena that ticks every 100 ms on a free port, logging to the test.
func fastArena(t *testing.T, o Options) Options {
	o.Log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	seed := uint64(7)
	o.Seed = &seed
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	o.Addr = "127.0.0.1:0"
	return o
}

// startArena starts an arena for the test; Wait runs in the background and its result is
// on the returned channel.
func startArena(t *testing.T, ctx context.Context, o Options) (*Arena, *testutil.SyncBuffer, <-chan error) {
	t.Helper()
	out := &testutil.SyncBuffer{}
	o.Out = out
	a, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("start the arena: %v", err)
	}
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		done <- a.Wait(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Errorf("the arena did not stop")
		}
	})
	return a, out, done
}

func getJSON(t *testing.T, url string, v any) bool {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(v) == nil
}

func TestArenaClosesAtTheEndOfItsDurationAndPrintsTheFinalRanking(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := &testutil.SyncBuffer{}
	o := fastArena(t, Options{Bots: len(strategy.Names()), Duration: 2 * time.Second, Out: out})
	if err := Run(ctx, o); err != nil {
		t.Fatalf("arena with --duration 2s ended with an error: %v\n%s", err, out)
	}
	if ctx.Err() != nil {
		t.Fatalf("the arena did not end by itself after its duration:\n%s", out)
	}
	got := out.String()
	i := strings.Index(got, "Final ranking of default/arena")
	if i < 0 {
		t.Fatalf("no final ranking printed:\n%s", got)
	}
	final := got[i:]
	if !strings.Contains(strings.SplitN(final, "\n", 2)[0], "closed") {
		t.Errorf("the final ranking's header does not say the market is closed:\n%s", final)
	}
	for _, name := range strategy.Names() {
		if !strings.Contains(final, " "+name+" ") {
			t.Errorf("bot %s is missing from the final ranking:\n%s", name, final)
		}
	}
	if !strings.Contains(final, "\n   1  ") {
		t.Errorf("the final ranking has no rank 1:\n%s", final)
	}
}

func TestCtrlCClosesTheMarketAndPrintsTheFinalRanking(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, out, done := startArena(t, ctx, fastArena(t, Options{Bots: 2}))
	var m engine.MarketInfo
	testutil.Eventually(t, 20*time.Second, "the market to tick", func() bool {
		return getJSON(t, a.URL()+"/api/market", &m) && m.Tick >= 3
	})
	cancel() // what Ctrl-C does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Ctrl-C ended the arena with an error: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the arena did not stop after Ctrl-C")
	}
	if !strings.Contains(out.String(), "Final ranking of default/arena") {
		t.Fatalf("no final ranking after Ctrl-C:\n%s", out)
	}
}

func TestATakenPortIsReportedWithTheFlagToUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o := fastArena(t, Options{})
	o.Addr = l.Addr().String()
	_, err = Start(context.Background(), o)
	if err == nil {
		t.Fatal("the arena started on a port that another program holds")
	}
	if !strings.Contains(err.Error(), "is taken") || !strings.Contains(err.Error(), "--port") {
		t.Fatalf("error %q does not say the port is taken and which flag to use", err)
	}
}

// TestAJoinedProgramTradesWithWhatTheArenaPrints plays as an outside program would: with the
// address and keys of the banner, through plain Redis commands.
func TestAJoinedProgramTradesWithWhatTheArenaPrints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, out, _ := startArena(t, ctx, fastArena(t, Options{Joins: []string{"team-x"}}))
	banner := out.String()
	k := a.Market().Keys()
	for _, want := range []string{
		"MONKONOMY_REDIS_ADDR=" + a.RedisAddr(), "MONKONOMY_MARKET=default/arena", "MONKONOMY_TRADER=team-x",
		"MONKONOMY_KEY_PREFIX='" + k.Prefix + "'", "XADD " + k.Orders("team-x") + " * kind buy qty 1", k.Results("team-x"),
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner does not tell a joining program %q:\n%s", want, banner)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: a.RedisAddr()})
	defer c.Close()
	var m engine.MarketInfo
	testutil.Eventually(t, 20*time.Second, "the market to open", func() bool {
		return getJSON(t, a.URL()+"/api/market", &m) && m.Tick >= 1
	})
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k.Orders("team-x"), Values: []any{"id", "first", "kind", "buy", "qty", "1"}}).Err(); err != nil {
		t.Fatalf("send an order as the joined program: %v", err)
	}
	var result map[string]any
	testutil.Eventually(t, 20*time.Second, "a result for the joined program's order", func() bool {
		res, err := c.XRange(ctx, k.Results("team-x"), "-", "+").Result()
		if err != nil || len(res) == 0 {
			return false
		}
		result = res[0].Values
		return true
	})
	if result["id"] != "first" || result["status"] != "accepted" || result["shares"] != "6" {
		t.Fatalf("result of buy 1 = %v, want order first accepted with 6 shares", result)
	}
}

func TestArenaPlaysOnARealRedis(t *testing.T) {
	srv := testredis.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := &testutil.SyncBuffer{}
	o := fastArena(t, Options{Bots: 2, Duration: time.Second, RedisURL: srv.URL(), Out: out})
	// Twice: the second game starts afresh instead of finding the first one closed.
	for round := 1; round <= 2; round++ {
		if err := Run(ctx, o); err != nil {
			t.Fatalf("round %d on a real Redis: %v\n%s", round, err, out)
		}
		if n := strings.Count(out.String(), "Final ranking of default/arena"); n != round {
			t.Fatalf("after round %d: %d final rankings printed:\n%s", round, n, out)
		}
		if n := strings.Count(out.String(), "Leaderboard of default/arena"); n < round {
			t.Fatalf("round %d never showed the market open:\n%s", round, out)
		}
	}
}

func TestScriptsAndBuiltinsPlayUnderTheirOwnNames(t *testing.T) {
	script := filepath.Join(t.TempDir(), "Monkey Lover.star")
	src := `
def on_tick(tick, account, memory):
    if account.shares > 0:
        return [feed(1)]
    return []
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, out, _ := startArena(t, ctx, fastArena(t, Options{Scripts: []string{script}, Builtins: []string{"feeder:max-buy=2"}}))
	for _, want := range []string{"monkey-lover         script " + script, "feeder               built-in feeder (max-buy=2)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner does not list %q:\n%s", want, out)
		}
	}
	var board []engine.Standing
	testutil.Eventually(t, 20*time.Second, "the script to feed 5 monkeys", func() bool {
		if !getJSON(t, a.URL()+"/api/leaderboard", &board) {
			return false
		}
		for _, s := range board {
			if s.Trader == "monkey-lover" && s.Team == "Script monkey-lover" && s.Fed >= 5 {
				return true
			}
		}
		return false
	})
	if len(board) != 2 {
		t.Fatalf("leaderboard = %+v, want the script and the feeder", board)
	}
}
