package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/monkonomy/monkonomy/market/dashboard"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// heartbeat is how often an idle event stream gets a comment, so proxies keep it open.
const heartbeat = 15 * time.Second

// MarketInfo is the body of GET /api/market and the data of the "phase" event.
type MarketInfo struct {
	Market       string `json:"market"`
	Phase        string `json:"phase"`
	Tick         int64  `json:"tick"`
	Price        string `json:"price"`
	Forecast     string `json:"forecast"`
	EMA          string `json:"ema"`
	Hype         string `json:"hype"`
	Burst        int    `json:"burst"`
	Time         string `json:"time"`
	TickInterval string `json:"tickInterval"`
	Traders      int    `json:"traders"`
	MarketTimeMs int64  `json:"marketTimeMs"`
	Duration     string `json:"duration"`
}

// Standing is one line of GET /api/leaderboard and of the "leaderboard" event.
type Standing struct {
	Rank     int    `json:"rank"`
	Trader   string `json:"trader"`
	Team     string `json:"team"`
	Score    int64  `json:"score"`
	Fed      int64  `json:"fed"`
	Coins    string `json:"coins"`
	Shares   int64  `json:"shares"`
	Bailouts int64  `json:"bailouts"`
	InFlight int64  `json:"inflight"`
	NetWorth string `json:"netWorth"`
}

// replyTimeout bounds how long an HTTP request waits for the engine.
const replyTimeout = 5 * time.Second

// view is what the HTTP API shows of the market: built with a batch that changed it, and
// shown once that batch is written.
type view struct {
	market      MarketInfo
	leaderboard []Standing
}

func (s *session) buildView() *view {
	t := s.m.LastTick()
	v := &view{market: MarketInfo{
		Market: s.e.opts.Market.String(), Phase: s.m.Phase().String(), Tick: t.Seq,
		Price: t.Price.String(), Forecast: t.Forecast.String(), EMA: t.EMA.String(), Hype: t.Hype.String(),
		Burst: t.Burst, Time: protocol.FormatTime(s.e.clk.Now()), TickInterval: shortDuration(s.e.cfg.TickInterval),
		Traders: len(s.traders), MarketTimeMs: s.m.TimeMs(), Duration: shortDuration(s.e.opts.Settings.Duration.Duration),
	}}
	standings := s.m.Standings(func(name string) string {
		if t := s.traders[name]; t != nil {
			return t.team
		}
		return ""
	})
	v.leaderboard = make([]Standing, 0, len(standings))
	for _, st := range standings {
		a, _ := s.m.Account(st.Trader)
		v.leaderboard = append(v.leaderboard, Standing{Rank: st.Rank, Trader: st.Trader, Team: st.Team,
			Score: st.Score, Fed: a.Fed, Coins: a.Coins.String(), Shares: a.Shares, Bailouts: a.Bailouts,
			InFlight: a.InFlight, NetWorth: st.NetWorth.String()})
	}
	return v
}

// shortDuration writes "10m" rather than "10m0s"; zero is "".
func shortDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// gibbRequest is a person's gibb posted over HTTP, waiting for the session to apply it.
type gibbRequest struct {
	author, text string
	reply        chan gibbReply
}

type gibbReply struct {
	status int
	err    string
	gibb   *protocol.Gibb
}

func (s *session) applyGibbRequest(r *gibbRequest) {
	g, st, reason := s.postGibb(r.author, r.text)
	switch st {
	case rules.StatusAccepted:
		s.out.replies = append(s.out.replies, pendingReply{req: r, gibb: g})
	case rules.StatusRateLimited:
		r.reply <- gibbReply{status: http.StatusTooManyRequests, err: reason}
	case rules.StatusMarketClosed, rules.StatusMarketPaused:
		r.reply <- gibbReply{status: http.StatusConflict, err: reason}
	default:
		r.reply <- gibbReply{status: http.StatusBadRequest, err: reason}
	}
}

func (e *Engine) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !e.leading.Load() {
			http.Error(w, "not leading: another engine holds the market's lease", http.StatusServiceUnavailable)
			return
		}
		if !e.caughtUp.Load() {
			http.Error(w, "catching up with waiting orders", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/market", func(w http.ResponseWriter, _ *http.Request) {
		if v := e.currentView(w); v != nil {
			writeJSON(w, http.StatusOK, v.market)
		}
	})
	mux.HandleFunc("GET /api/leaderboard", func(w http.ResponseWriter, _ *http.Request) {
		if v := e.currentView(w); v != nil {
			writeJSON(w, http.StatusOK, v.leaderboard)
		}
	})
	mux.HandleFunc("GET /api/ticks", e.serveTicks)
	mux.HandleFunc("GET /api/gibbs", e.serveGibbs)
	mux.HandleFunc("POST /api/gibbs", e.postGibb)
	mux.HandleFunc("GET /api/events", e.serveEvents)
	mux.Handle("/", dashboard.Handler())
	return mux
}

func (e *Engine) currentView(w http.ResponseWriter) *view {
	v := e.view.Load()
	if v == nil {
		writeError(w, http.StatusServiceUnavailable, "this engine is not leading the market right now; try again in a few seconds")
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// count reads the n query parameter: how many entries, def when absent, at most 10,000.
func count(r *http.Request, def int64) (int64, error) {
	s := r.URL.Query().Get("n")
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > 10_000 {
		return 0, fmt.Errorf("n must be a whole number from 1 to 10000, not %q", s)
	}
	return n, nil
}

func (e *Engine) serveTicks(w http.ResponseWriter, r *http.Request) {
	n, err := count(r, 300)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	msgs, err := e.rdb.XRevRangeN(r.Context(), e.keys.Ticks(), "+", "-", n).Result()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "read ticks from Redis: "+err.Error())
		return
	}
	ticks := make([]protocol.Tick, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		t, err := protocol.DecodeTick(msgs[i])
		if err != nil {
			e.log.Error("Skipped a tick that cannot be read", "entry", msgs[i].ID, "err", err)
			continue
		}
		ticks = append(ticks, t)
	}
	writeJSON(w, http.StatusOK, ticks)
}

func (e *Engine) serveGibbs(w http.ResponseWriter, r *http.Request) {
	n, err := count(r, 50)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	msgs, err := e.rdb.XRevRangeN(r.Context(), e.keys.Gibbs(), "+", "-", n).Result()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "read gibbs from Redis: "+err.Error())
		return
	}
	gibbs := make([]protocol.Gibb, 0, len(msgs))
	for _, m := range msgs {
		g, err := protocol.DecodeGibb(m)
		if err != nil {
			e.log.Error("Skipped a gibb that cannot be read", "entry", m.ID, "err", err)
			continue
		}
		gibbs = append(gibbs, g)
	}
	writeJSON(w, http.StatusOK, gibbs)
}

func (e *Engine) postGibb(w http.ResponseWriter, r *http.Request) {
	if tok := e.opts.AdminToken; tok != "" && r.Header.Get("Authorization") != "Bearer "+tok {
		writeError(w, http.StatusUnauthorized, "posting a gibb needs the organiser's token: send Authorization: Bearer TOKEN")
		return
	}
	var body protocol.PostGibb
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4*protocol.MaxTextBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		e.metrics.invalid.WithLabelValues("http").Inc()
		writeError(w, http.StatusBadRequest, `the body must be JSON such as {"author":"Ada","text":"banana up"}: `+err.Error())
		return
	}
	if err := errors.Join(protocol.CheckAuthor(body.Author), protocol.CheckText(body.Text)); err != nil {
		e.metrics.invalid.WithLabelValues("http").Inc()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !e.leading.Load() {
		writeError(w, http.StatusServiceUnavailable, "this engine is not leading the market right now; try again in a few seconds")
		return
	}
	req := &gibbRequest{author: body.Author, text: body.Text, reply: make(chan gibbReply, 1)}
	t := time.NewTimer(replyTimeout)
	defer t.Stop()
	select {
	case e.gibbReqs <- req:
	case <-t.C:
		writeError(w, http.StatusServiceUnavailable, "the engine is busy; try again")
		return
	case <-r.Context().Done():
		return
	}
	select {
	case rep := <-req.reply:
		if rep.gibb != nil {
			writeJSON(w, http.StatusAccepted, map[string]any{"gibb": rep.gibb})
			return
		}
		writeError(w, rep.status, rep.err)
	case <-t.C:
		writeError(w, http.StatusServiceUnavailable, "the engine did not apply the gibb in time; look at the gibbs feed before posting again")
	case <-r.Context().Done():
	}
}

// serveEvents streams the market as Server-Sent Events: a snapshot first (phase, latest
// tick, leaderboard), then every tick, gibb, leaderboard and phase change.
func (e *Engine) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported by this connection")
		return
	}
	c := e.hub.subscribe()
	defer e.hub.unsubscribe(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if v := e.view.Load(); v != nil {
		writeEvent(w, event{name: "phase", data: v.market})
		if msgs, err := e.rdb.XRevRangeN(r.Context(), e.keys.Ticks(), "+", "-", 1).Result(); err == nil && len(msgs) == 1 {
			if t, err := protocol.DecodeTick(msgs[0]); err == nil {
				writeEvent(w, event{name: "tick", data: t})
			}
		}
		writeEvent(w, event{name: "leaderboard", data: v.leaderboard})
	}
	fl.Flush()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-c:
			if !ok {
				return // too slow: the client reconnects and gets a fresh snapshot
			}
			writeEvent(w, ev)
			fl.Flush()
		case <-beat.C:
			_, _ = io.WriteString(w, ": heartbeat\n\n")
			fl.Flush()
		}
	}
}

func writeEvent(w io.Writer, ev event) {
	b, err := json.Marshal(ev.data)
	if err != nil {
		return
	}
	_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, b)
}
