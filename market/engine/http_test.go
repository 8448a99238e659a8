package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

func TestDashboardAPIShowsTheMarket(t *testing.T) {
	_, rdb := newRedis(t)
	register(t, rdb, "alice", "bob")
	settings := steadySettings(40 * time.Millisecond)
	settings.Duration = protocol.Duration{Duration: 10 * time.Minute}
	e := startEngine(t, rdb, settings, func(o *Options) { o.AdminToken = "s3cret" })
	testutil.Eventually(t, 10*time.Second, "three ticks", func() bool { return lastTick(t, rdb).Seq >= 3 })

	testutil.Eventually(t, 10*time.Second, "the engine to be ready", func() bool { return getJSON(t, e.srv.URL+"/readyz", nil) == http.StatusOK })
	if code := getJSON(t, e.srv.URL+"/healthz", nil); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}

	// The API shows the market as of the last batch the engine has seen land, a moment
	// after Redis holds it.
	var m MarketInfo
	testutil.Eventually(t, 10*time.Second, "/api/market to show the third tick", func() bool {
		if code := getJSON(t, e.srv.URL+"/api/market", &m); code != http.StatusOK {
			t.Fatalf("/api/market: %d", code)
		}
		return m.Tick >= 3
	})
	if m.Market != "default/test" || m.Phase != "open" || m.Tick < 3 || m.Price != "1.000000" || m.TickInterval != "40ms" ||
		m.Duration != "10m" || m.Traders != 2 || m.MarketTimeMs <= 0 || m.Forecast != "1.000000" {
		t.Errorf("/api/market: %+v", m)
	}
	if _, err := time.Parse(time.RFC3339, m.Time); err != nil {
		t.Errorf("/api/market time %q: %v", m.Time, err)
	}

	var ticks []map[string]any
	getJSON(t, e.srv.URL+"/api/ticks?n=3", &ticks)
	if len(ticks) != 3 || ticks[0]["seq"].(float64) >= ticks[2]["seq"].(float64) || ticks[2]["price"] != "1.000000" {
		t.Errorf("/api/ticks?n=3 is not the 3 latest ticks oldest first: %v", ticks)
	}
	if code := getJSON(t, e.srv.URL+"/api/ticks?n=zillion", nil); code != http.StatusBadRequest {
		t.Errorf("/api/ticks?n=zillion: %d, want 400", code)
	}

	// Events: a snapshot on connect, then ticks, gibbs, the leaderboard.
	resp, err := http.Get(e.srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("/api/events content type %q", ct)
	}
	events := readEvents(resp.Body)
	for _, name := range []string{"phase", "tick", "leaderboard"} {
		if _, err := nextEvent(events, name, 5*time.Second); err != nil {
			t.Fatalf("snapshot %s event: %v", name, err)
		}
	}
	if ev, err := nextEvent(events, "tick", 5*time.Second); err != nil {
		t.Fatalf("tick event: %v", err)
	} else {
		var tk protocol.Tick
		if err := json.Unmarshal([]byte(ev.data), &tk); err != nil || tk.Seq == 0 || tk.Price != coins("1") {
			t.Errorf("tick event %s: %v", ev.data, err)
		}
	}

	// Posting a gibb needs the organiser's token, valid JSON, and respects the limit.
	url := e.srv.URL + "/api/gibbs"
	if code, _ := postJSON(t, url, "", protocol.PostGibb{Author: "Ada", Text: "banana"}); code != http.StatusUnauthorized {
		t.Errorf("gibb without token: %d, want 401", code)
	}
	if code, body := postJSON(t, url, "s3cret", map[string]string{"author": "Ada", "text": "banana", "x": "1"}); code != http.StatusBadRequest || body["error"] == "" {
		t.Errorf("gibb with an unknown field: %d %v, want 400 with an error", code, body)
	}
	if code, _ := postJSON(t, url, "s3cret", protocol.PostGibb{Author: "Ada", Text: strings.Repeat("banana ", 50)}); code != http.StatusBadRequest {
		t.Errorf("gibb of 350 characters: %d, want 400", code)
	}
	codes := map[int]int{}
	for range 3 {
		code, body := postJSON(t, url, "s3cret", protocol.PostGibb{Author: "Ada", Text: "banana love #mktd"})
		codes[code]++
		if code == http.StatusAccepted {
			g, _ := body["gibb"].(map[string]any)
			if g["author"] != "Ada" || g["points"].(float64) != 101 || g["hype"] == nil {
				t.Errorf("accepted gibb: %v", body)
			}
		}
	}
	if codes[http.StatusAccepted] == 0 || codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("three gibbs of one author at once: %v, want 202 then 429", codes)
	}
	ev, err := nextEvent(events, "gibb", 5*time.Second)
	if err != nil || !strings.Contains(ev.data, `"author":"Ada"`) {
		t.Errorf("gibb event %q: %v", ev.data, err)
	}
	var gibbs []protocol.Gibb
	getJSON(t, e.srv.URL+"/api/gibbs?n=50", &gibbs)
	if len(gibbs) == 0 || gibbs[0].Author != "Ada" {
		t.Errorf("/api/gibbs: %+v", gibbs)
	}

	send(t, rdb, "bob", rules.Order{ID: "b1", Kind: rules.KindFeed, Qty: 2})
	resultOf(t, rdb, "bob", "b1")
	ev, err = nextEvent(events, "leaderboard", 5*time.Second)
	for err == nil && !strings.Contains(ev.data, `"fed":2`) {
		ev, err = nextEvent(events, "leaderboard", 5*time.Second)
	}
	if err != nil {
		t.Fatalf("leaderboard event with bob's feed: %v", err)
	}
	var board []Standing
	getJSON(t, e.srv.URL+"/api/leaderboard", &board)
	getJSON(t, e.srv.URL+"/api/market", &m)
	netWorth := coins("10") + 3*coins(m.Price) // Ada's gibbs moved the price
	if len(board) != 2 || board[0].Trader != "bob" || board[0].Rank != 1 || board[0].Fed != 2 || board[0].Coins != "10.000000" ||
		board[0].NetWorth != netWorth.String() || board[0].Team != "Team bob" {
		t.Errorf("/api/leaderboard: %+v", board)
	}

	inbox(t, rdb, protocol.Inbox{Kind: protocol.InboxPhase, Phase: protocol.PhasePause})
	ev, err = nextEvent(events, "phase", 5*time.Second)
	if err != nil || !strings.Contains(ev.data, `"phase":"paused"`) {
		t.Errorf("phase event %q: %v", ev.data, err)
	}

	resp2, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	for _, name := range []string{"monkonomy_engine_ticks_total", `monkonomy_engine_orders_total{status="accepted"}`,
		"monkonomy_engine_batch_orders_bucket", "monkonomy_engine_commit_seconds_bucket", "monkonomy_engine_order_lag_seconds",
		`monkonomy_engine_invalid_input_total{source="http"}`} {
		if !strings.Contains(string(b), name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if code := getJSON(t, e.srv.URL+"/", nil); code != http.StatusOK {
		t.Errorf("dashboard at /: %d", code)
	}
}
