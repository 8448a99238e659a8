package trader_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader"
)

func TestConnectExplainsMissingOrBadSettings(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		opts trader.Options
		want string
	}{
		{trader.Options{Trader: "ana"}, "set MONKONOMY_MARKET"},
		{trader.Options{Market: "default/arena"}, "set MONKONOMY_TRADER"},
		{trader.Options{Market: "Default/arena", Trader: "ana"}, `namespace name "Default" is not valid`},
		{trader.Options{Market: "arena", Trader: "Ana"}, `trader name "Ana" is not valid`},
	}
	for _, c := range cases {
		if _, err := trader.Connect(ctx, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Connect(%+v) = %v, want an error with %q", c.opts, err, c.want)
		}
	}
}

func TestFromEnvReadsThePodsEnvironment(t *testing.T) {
	t.Setenv("MONKONOMY_REDIS_ADDR", "redis:6379")
	t.Setenv("MONKONOMY_REDIS_USERNAME", "trader-ana")
	t.Setenv("MONKONOMY_REDIS_PASSWORD", "s3cret")
	t.Setenv("MONKONOMY_MARKET", "meetup/spring")
	t.Setenv("MONKONOMY_TRADER", "ana")
	t.Setenv("MONKONOMY_KEY_PREFIX", "mk:{meetup/spring}:")
	got := trader.FromEnv()
	want := trader.Options{Addr: "redis:6379", Username: "trader-ana", Password: "s3cret", Market: "meetup/spring", Trader: "ana", KeyPrefix: "mk:{meetup/spring}:"}
	if got != want {
		t.Fatalf("FromEnv() = %+v, want %+v", got, want)
	}
}

func TestRetriedOrderIDIsAppliedOnce(t *testing.T) {
	m, c, ctx := anaAtMarket(t)
	var results []protocol.Result
	listenCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Listen(listenCtx, trader.Handlers{OnResult: func(r protocol.Result) { results = append(results, r) }})
	}()
	// The same order sent twice, as a client does when it lost the answer to its XADD.
	for range 2 {
		if _, err := c.Send(ctx, rules.Order{ID: "ana-buy-1", Kind: rules.KindBuy, Qty: 2}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := c.Feed(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the feed's result", func() bool {
		a, _ := c.Account()
		return a.Fed == 1
	})
	stop()
	<-done
	acct, _ := m.Account(t, "ana")
	if acct.Shares != 5+2-1 {
		t.Fatalf("engine holds %d shares after buying 2 (sent twice) and feeding 1 from 5, want 6", acct.Shares)
	}
	mine, _ := c.Account()
	if mine.Shares != acct.Shares || mine.Coins != acct.Coins {
		t.Fatalf("the client's account %+v differs from the engine's %+v", mine, acct)
	}
	if len(results) != 3 || results[0].ID != "ana-buy-1" || results[1].ID != "ana-buy-1" || results[2].ID != id {
		t.Fatalf("results %+v, want the buy's result twice, then the feed's", results)
	}
	if results[0].Account != results[1].Account || results[0].Status != rules.StatusAccepted {
		t.Fatalf("the retried order got %+v, want the first result again: %+v", results[1], results[0])
	}
}

// A handler that stops Listen is not called again, even for results read together with
// the one that stopped it.
func TestListenCallsNoHandlerAfterItStops(t *testing.T) {
	m, c, ctx := anaAtMarket(t)
	// Three results wait in the stream before Listen reads it: one read takes them all.
	var last string
	for i := range 3 {
		id, err := c.Feed(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			last = id
		}
	}
	admin := m.Server.Client()
	defer admin.Close()
	testutil.Eventually(t, 10*time.Second, "the three results", func() bool {
		msgs, _ := admin.XRevRangeN(ctx, m.Market.Keys().Results("ana"), "+", "-", 1).Result()
		return len(msgs) == 1 && msgs[0].Values[protocol.FieldID] == last
	})
	listenCtx, stop := context.WithCancel(ctx)
	calls := 0
	err := c.Listen(listenCtx, trader.Handlers{OnResult: func(protocol.Result) {
		calls++
		stop()
	}})
	if err != context.Canceled || calls != 1 {
		t.Fatalf("Listen returned %v after %d calls of a handler that stops it on the first, want context.Canceled after 1", err, calls)
	}
}

func TestClientReconnectsAfterRedisRestartsAndLosesNoTick(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond, testredis.WithAppendOnly())
	m.Register(t, "ana")
	c := connect(t, m, "ana")
	var seen atomic.Int64
	var gaps atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Listen(ctx, trader.Handlers{OnTick: func(tk protocol.Tick) {
			if prev := seen.Swap(tk.Seq); prev != 0 && tk.Seq != prev+1 && tk.Seq != prev {
				gaps.Add(1)
			}
		}})
	}()
	defer func() { stop(); <-done }()
	testutil.Eventually(t, 10*time.Second, "ticks before the restart", func() bool { return seen.Load() >= 5 })
	m.Server.Stop()
	m.Server.Restart()
	before := seen.Load()
	testutil.Eventually(t, 30*time.Second, "ticks after the restart", func() bool { return seen.Load() >= before+10 })
	if _, err := c.Buy(context.Background(), 1); err != nil {
		t.Fatalf("send after the restart: %v", err)
	}
	if gaps.Load() != 0 {
		t.Fatalf("the client skipped ticks %d times across the restart", gaps.Load())
	}
}

func TestDocRedisCliLinesPlayAgainstTheEngine(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli is needed by this test: run `apt-get install -y redis-tools`")
	}
	m := startMarket(t, 25*time.Millisecond)
	m.Register(t, "ana")
	block := regexp.MustCompile("(?s)```sh\n(P='mk:\\{default/arena\\}:'\n.*?)```").FindStringSubmatch(readDoc(t))
	if block == nil {
		t.Fatal("docs/writing-a-trader.md has no redis-cli block starting with P='mk:{default/arena}:'")
	}
	_, port, _ := strings.Cut(m.Server.Addr, ":")
	script := "set -e\nredis-cli() { command redis-cli -p " + port + ` "$@"; }` + "\n" +
		strings.Replace(block[1], "mk:{default/arena}:", m.Keys.Prefix, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the doc's redis-cli lines failed: %v\n%s", err, out)
	}
	// The XRANGE of results ran right after the orders: wait for all four (and the
	// plantation's harvest), then check them.
	testutil.Eventually(t, 10*time.Second, "four results and a harvest", func() bool {
		n, _ := m.Redis.XLen(context.Background(), m.Keys.Results("ana")).Result()
		return n == 5
	})
	msgs, err := m.Redis.XRange(context.Background(), m.Keys.Results("ana"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, msg := range msgs {
		r, err := protocol.DecodeResult(msg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == rules.KindHarvest {
			if r.Status != rules.StatusHarvest || r.Credit <= 3_500_000 {
				t.Errorf("harvest %+v, want a credit of more than the 3.5 coins planted", r)
			}
			continue
		}
		i++
		if want := "ana-" + string(rune('0'+i)); r.ID != want || r.Status != rules.StatusAccepted {
			t.Errorf("result %d: id %s status %s (%s), want %s accepted", i, r.ID, r.Status, r.Reason, want)
		}
	}
	if !strings.Contains(string(out), "seq") || !strings.Contains(string(out), "price") {
		t.Errorf("the doc's lines printed no tick:\n%s", out)
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/writing-a-trader.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A full Redis (at its maxmemory) refuses an order with an OOM error: Send keeps it and
// tries again until Redis has room, and the engine applies it once.
func TestSendWaitsOutAFullRedis(t *testing.T) {
	m, c, ctx := anaAtMarket(t)
	admin := m.Server.Client()
	defer admin.Close()
	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, rules.Order{ID: "ana-feed-1", Kind: rules.KindFeed, Qty: 1})
		sent <- err
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-sent:
		t.Fatalf("Send returned (%v) while Redis was full", err)
	default:
	}
	orders := m.Market.Keys().Orders("ana")
	if n, err := admin.XLen(ctx, orders).Result(); err != nil || n != 0 {
		t.Fatalf("ana's orders stream holds %d orders (%v) while Redis is full, want 0", n, err)
	}
	if err := admin.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("Send once Redis had room: %v", err)
	}
	testutil.Eventually(t, 10*time.Second, "the order's result", func() bool {
		acct, _ := m.Account(t, "ana")
		return acct.Fed == 1
	})
	if n, err := admin.XLen(ctx, orders).Result(); err != nil || n != 1 {
		t.Errorf("ana's orders stream holds %d orders (%v), want the one sent", n, err)
	}
}
