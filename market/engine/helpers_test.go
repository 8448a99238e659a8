package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// steadySettings play a market whose price stays at 1.000000 (until hype moves it), so
// that tests can check amounts exactly.
func steadySettings(tick time.Duration) protocol.Settings {
	return protocol.Settings{
		TickInterval: protocol.Duration{Duration: tick},
		Price:        protocol.PriceSettings{Drift: "0.000000001", Volatility: "0.000000001"},
	}
}

var testMarket = protocol.Market{Namespace: "default", Name: "test"}

// runningEngine is an engine running in the test's process, with its HTTP server.
type runningEngine struct {
	*Engine
	srv    *httptest.Server
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
}

func (r *runningEngine) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("engine did not stop within 10s")
	}
	r.srv.CloseClientConnections()
	r.srv.Close()
}

func startEngine(t testing.TB, rdb *redis.Client, settings protocol.Settings, edit ...func(*Options)) *runningEngine {
	t.Helper()
	opts := Options{Redis: rdb, Market: testMarket, Settings: settings, LeaseTTL: time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	for _, f := range edit {
		f(&opts)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningEngine{Engine: e, srv: httptest.NewServer(e.Handler()), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := e.Run(ctx); err != nil {
			t.Errorf("engine: %v", err)
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newRedis(t testing.TB, opts ...testredis.Option) (*testredis.Server, *redis.Client) {
	srv := testredis.Start(t, opts...)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	return srv, rdb
}

// redisInfo is a section of Redis's INFO, as name: value.
func redisInfo(t testing.TB, rdb *redis.Client, section string) map[string]string {
	t.Helper()
	info, err := rdb.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if name, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[name] = v
		}
	}
	return fields
}

// commandStat is what Redis counts of one command since its statistics were last reset.
type commandStat struct {
	name        string
	calls, usec float64 // usec: Redis's CPU time in it, in µs
}

// redisCommands reads Redis's statistics of its commands (INFO commandstats).
func redisCommands(t testing.TB, rdb *redis.Client) []commandStat {
	var stats []commandStat
	// cmdstat_xadd: calls=3,usec=40,usec_per_call=13.33,...
	for name, fields := range redisInfo(t, rdb, "commandstats") {
		name, ok := strings.CutPrefix(name, "cmdstat_")
		if !ok {
			continue
		}
		st := commandStat{name: name}
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "calls":
				st.calls = n
			case "usec":
				st.usec = n
			}
		}
		stats = append(stats, st)
	}
	return stats
}

func register(t testing.TB, rdb *redis.Client, traders ...string) {
	t.Helper()
	for _, name := range traders {
		if err := rdb.HSet(context.Background(), testMarket.Keys().Traders(), name,
			protocol.EncodeTraderInfo(protocol.TraderInfo{Team: "Team " + name})).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// send appends an order to a trader's orders stream.
func send(t testing.TB, rdb *redis.Client, trader string, o rules.Order) {
	t.Helper()
	sendRaw(t, rdb, trader, protocol.AppendOrder(nil, o)...)
}

func sendRaw(t testing.TB, rdb *redis.Client, trader string, values ...any) string {
	t.Helper()
	id, err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: testMarket.Keys().Orders(trader), Values: values}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// results reads every result of a trader.
func results(t testing.TB, rdb *redis.Client, trader string) []protocol.Result {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), testMarket.Keys().Results(trader), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]protocol.Result, 0, len(msgs))
	for _, m := range msgs {
		r, err := protocol.DecodeResult(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// resultsFor waits until a trader has n results with the given order id and returns them.
func resultsFor(t testing.TB, rdb *redis.Client, trader, id string, n int) []protocol.Result {
	t.Helper()
	var got []protocol.Result
	testutil.Eventually(t, 10*time.Second, "result of order "+trader+"/"+id, func() bool {
		got = got[:0]
		for _, r := range results(t, rdb, trader) {
			if r.ID == id && r.Kind != rules.KindHarvest {
				got = append(got, r)
			}
		}
		return len(got) >= n
	})
	return got
}

func resultOf(t testing.TB, rdb *redis.Client, trader, id string) protocol.Result {
	t.Helper()
	return resultsFor(t, rdb, trader, id, 1)[0]
}

func lastTick(t testing.TB, rdb *redis.Client) protocol.Tick {
	t.Helper()
	msgs, err := rdb.XRevRangeN(context.Background(), testMarket.Keys().Ticks(), "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return protocol.Tick{}
	}
	tk, err := protocol.DecodeTick(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func getJSON(t testing.TB, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func postJSON(t testing.TB, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func inbox(t testing.TB, rdb *redis.Client, in protocol.Inbox) {
	t.Helper()
	if err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: testMarket.Keys().Inbox(),
		Values: protocol.AppendInbox(nil, in)}).Err(); err != nil {
		t.Fatal(err)
	}
}

func audit(t testing.TB, rdb *redis.Client) AuditReport {
	t.Helper()
	rep, err := Audit(context.Background(), rdb, testMarket)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Differences {
		t.Errorf("audit: %s", d)
	}
	return rep
}

// sseEvent is one event read from /api/events.
type sseEvent struct {
	name, data string
}

// readEvents reads Server-Sent Events into a channel until the body ends.
func readEvents(body io.Reader) <-chan sseEvent {
	c := make(chan sseEvent, 1024)
	go func() {
		defer close(c)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				c <- ev
				ev = sseEvent{}
			}
		}
	}()
	return c
}

var errTimeout = errors.New("timed out")

func nextEvent(c <-chan sseEvent, name string, d time.Duration) (sseEvent, error) {
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-c:
			if !ok {
				return ev, io.EOF
			}
			if ev.name == name {
				return ev, nil
			}
		case <-deadline:
			return sseEvent{}, errTimeout
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// redisXAdd is an order of a trader as XADD arguments.
type redisXAdd struct {
	trader string
	o      rules.Order
}

func (x redisXAdd) args() *redis.XAddArgs {
	return &redis.XAddArgs{Stream: testMarket.Keys().Orders(x.trader), Values: protocol.AppendOrder(nil, x.o)}
}

// redisXAddRaw is an entry of any stream as XADD arguments.
type redisXAddRaw struct {
	stream string
	values []any
}

func (x redisXAddRaw) args() *redis.XAddArgs {
	return &redis.XAddArgs{Stream: x.stream, Values: x.values}
}
