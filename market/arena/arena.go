// Package arena runs the whole game on one machine: a Redis-protocol server (embedded, or a
// real Redis), one market's engine with its dashboard, built-in bots, the players' scripts,
// and room for programs of the teams that join from outside. It prints the leaderboard live
// in the terminal and the final ranking when the market closes.
package arena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// DefaultMarket is the market the arena plays.
const DefaultMarket = "default/arena"

// DefaultAddr is where the dashboard listens.
const DefaultAddr = "127.0.0.1:8080"

// DefaultTick is the time between two ticks.
const DefaultTick = time.Second

// Options configure an arena. The zero value plays the default market with no traders.
type Options struct {
	// Market is NAMESPACE/NAME or NAME [default/arena].
	Market string
	// RedisURL is a real Redis to play on; empty starts an embedded server.
	RedisURL string
	// Seed fixes the price path; nil lets the engine derive one from the market's name.
	Seed *uint64
	// Tick is the time between two ticks [1s].
	Tick time.Duration
	// Duration closes the market after this much market time; 0 plays until stopped.
	Duration time.Duration
	// Addr is where the dashboard listens [127.0.0.1:8080]; port 0 takes a free port.
	Addr string

	// Bots is the number of built-in bots, one per built-in strategy in turn.
	Bots int
	// Builtins are more built-in bots, each NAME[:k=v,k=v].
	Builtins []string
	// Scripts are Starlark scripts, one trader each, named after the file.
	Scripts []string
	// Joins are traders registered for programs that join from outside.
	Joins []string

	// Out receives the banner, the live leaderboard and the final ranking.
	Out io.Writer
	// Terminal redraws the leaderboard in place, cutting lines at Width columns (when
	// known); otherwise a block is printed every BoardEvery ticks [10].
	Terminal   bool
	Width      int
	BoardEvery int64
	// Log receives the engine's and the traders' logs [discarded].
	Log *slog.Logger
}

// Arena is a running arena. Start it, then Wait for the end of the game.
type Arena struct {
	opts     Options
	market   protocol.Market
	store    *store
	entrants []entrant
	engine   *engine.Engine
	rdb      *redis.Client // the engine's
	listener net.Listener
	server   *http.Server
	http     *http.Client
	board    *Board

	cancel context.CancelFunc // stops the engine and the traders
	wg     sync.WaitGroup
	errs   chan error
}

// Run starts an arena and plays until the market closes (at the end of Duration) or ctx
// ends (Ctrl-C), which closes the market; either way it prints the final ranking.
func Run(ctx context.Context, opts Options) error {
	a, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	return a.Wait(ctx)
}

// Start checks the options, starts Redis, the engine, the dashboard and the traders, and
// prints how to follow and join the game.
func Start(ctx context.Context, opts Options) (*Arena, error) {
	if opts.Market == "" {
		opts.Market = DefaultMarket
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Tick <= 0 {
		opts.Tick = DefaultTick
	}
	if opts.BoardEvery <= 0 {
		opts.BoardEvery = 10
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Bots < 0 {
		return nil, fmt.Errorf("--bots %d: the number of bots cannot be negative", opts.Bots)
	}
	market, err := protocol.ParseMarket(opts.Market)
	if err != nil {
		return nil, err
	}
	list, err := entrants(opts)
	if err != nil {
		return nil, err
	}
	a := &Arena{
		opts:     opts,
		market:   market,
		entrants: list,
		http:     &http.Client{Timeout: 5 * time.Second},
		board:    NewBoard(opts.Out, opts.Terminal, opts.BoardEvery),
		errs:     make(chan error, 1),
	}
	a.board.width = opts.Width

	// The port first: when it is taken nothing else needs undoing.
	a.listener, err = net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, listenError(opts.Addr, err)
	}
	a.store, err = openStore(ctx, opts.RedisURL)
	if err != nil {
		a.listener.Close()
		return nil, err
	}
	if err := a.prepare(ctx); err != nil {
		a.listener.Close()
		a.store.close()
		return nil, err
	}
	a.banner()
	a.start()
	return a, nil
}

// listenError explains a port that cannot be used.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		_, port, _ := net.SplitHostPort(addr)
		next := "8081"
		if p, perr := strconv.Atoi(port); perr == nil && p > 0 && p < 65535 {
			next = strconv.Itoa(p + 1)
		}
		return fmt.Errorf("port %s is taken by another program (another arena?): run `monkonomy arena --port %s`, or --port 0 for any free port", port, next)
	}
	return fmt.Errorf("listen on %s for the dashboard: %w", addr, err)
}

// prepare clears a previous game of this market on a real Redis, registers every trader
// and creates the engine.
func (a *Arena) prepare(ctx context.Context) error {
	c := a.store.client()
	defer c.Close()
	if a.store.embedded == nil {
		if err := clearMarket(ctx, c, a.market); err != nil {
			return err
		}
	}
	for _, e := range a.entrants {
		if err := register(ctx, c, a.market, e.Name, e.Team); err != nil {
			return err
		}
	}
	settings := protocol.Settings{
		TickInterval: protocol.Duration{Duration: a.opts.Tick},
		Duration:     protocol.Duration{Duration: a.opts.Duration},
		Seed:         a.opts.Seed,
	}
	a.rdb = a.store.client()
	eng, err := engine.New(engine.Options{
		Redis:    a.rdb,
		Market:   a.market,
		Settings: settings,
		Log:      a.opts.Log,
		// The arena is the only engine of its market: a restart need not wait long.
		LeaseTTL: 2 * time.Second,
	})
	if err != nil {
		a.rdb.Close()
		return err
	}
	a.engine = eng
	return nil
}

// start runs the engine, the dashboard and the traders in the background.
func (a *Arena) start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.server = &http.Server{Handler: a.engine.Handler(), ReadHeaderTimeout: 10 * time.Second}
	a.goFail(func() error {
		if err := a.server.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve the dashboard: %w", err)
		}
		return nil
	})
	a.goFail(func() error { return a.engine.Run(ctx) })
	for _, e := range a.entrants {
		if e.External {
			continue
		}
		a.wg.Go(func() { a.play(ctx, e) })
	}
}

// goFail runs fn in the background; its error ends the game.
func (a *Arena) goFail(fn func() error) {
	a.wg.Go(func() {
		if err := fn(); err != nil {
			select {
			case a.errs <- err:
			default:
			}
		}
	})
}

// URL is the dashboard's address.
func (a *Arena) URL() string { return "http://" + a.listener.Addr().String() }

// RedisAddr is the address of the Redis the arena plays on.
func (a *Arena) RedisAddr() string { return a.store.addr }

// Market is the market the arena plays.
func (a *Arena) Market() protocol.Market { return a.market }

// Wait follows the game, showing the leaderboard, until the market closes or ctx ends;
// then it closes the market, prints the final ranking and stops everything.
func (a *Arena) Wait(ctx context.Context) error {
	defer a.stop()
	every := min(max(a.opts.Tick, 50*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case err := <-a.errs:
			return err
		case <-ctx.Done():
			return a.finish()
		case <-t.C:
		}
		m, s, err := a.snapshot(ctx)
		if err != nil {
			continue // the engine is still starting, or restoring the market
		}
		if m.Phase == "closed" {
			a.board.Final(m, s)
			return nil
		}
		a.board.Update(m, s)
	}
}

// finish closes the market after Ctrl-C and prints the final ranking.
func (a *Arena) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := a.store.client()
	defer c.Close()
	args := protocol.AppendInbox([]any{"XADD", a.market.Keys().Inbox(), "*"},
		protocol.Inbox{Kind: protocol.InboxPhase, Phase: protocol.PhaseClose})
	if err := c.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("close market %s: %w", a.market, err)
	}
	for {
		m, s, err := a.snapshot(ctx)
		if err == nil && m.Phase == "closed" {
			a.board.Final(m, s)
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				a.board.Final(m, s)
			}
			return fmt.Errorf("market %s did not close within 10s; the ranking above is its last known state", a.market)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the traders, the engine, the dashboard and the embedded Redis.
func (a *Arena) stop() {
	a.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = a.server.Shutdown(ctx)
	a.wg.Wait()
	a.rdb.Close()
	a.store.close()
}

// snapshot reads the market and its leaderboard from the engine's API.
func (a *Arena) snapshot(ctx context.Context) (engine.MarketInfo, []engine.Standing, error) {
	var m engine.MarketInfo
	var s []engine.Standing
	if err := a.get(ctx, "/api/market", &m); err != nil {
		return m, nil, err
	}
	if err := a.get(ctx, "/api/leaderboard", &s); err != nil {
		return m, nil, err
	}
	return m, s, nil
}

func (a *Arena) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL()+path, nil)
	if err != nil {
		return err
	}
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

func register(ctx context.Context, c *redis.Client, m protocol.Market, trader, team string) error {
	info := protocol.EncodeTraderInfo(protocol.TraderInfo{Team: team})
	if err := c.HSet(ctx, m.Keys().Traders(), trader, info).Err(); err != nil {
		return fmt.Errorf("register trader %s in market %s: %w", trader, m, err)
	}
	return nil
}

// clearMarket deletes a previous game of the market, so that every arena starts afresh.
func clearMarket(ctx context.Context, c *redis.Client, m protocol.Market) error {
	// Names are DNS labels, so the prefix holds no glob character that needs quoting.
	var keys []string
	iter := c.Scan(ctx, 0, m.Keys().Prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("list the keys of market %s: %w", m, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("clear the previous game of market %s: %w", m, err)
		}
		keys = keys[n:]
	}
	return nil
}
