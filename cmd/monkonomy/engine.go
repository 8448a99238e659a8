package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/engine"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/redisconn"
)

// marketFlags are the flags every command that talks to one market's Redis keys takes.
type marketFlags struct {
	redisURL string
	market   string
}

func (f *marketFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.redisURL, "redis", os.Getenv("MONKONOMY_REDIS_URL"), "Redis URL or host:port, e.g. redis://:PASSWORD@HOST:6379/0 (env MONKONOMY_REDIS_URL; in a pod, MONKONOMY_REDIS_ADDR and MONKONOMY_REDIS_PASSWORD as the operator sets them; default 127.0.0.1:6379)")
	cmd.Flags().StringVar(&f.market, "market", os.Getenv("MONKONOMY_MARKET"), "market as NAMESPACE/NAME, or NAME in the default namespace (env MONKONOMY_MARKET)")
}

// open checks the flags and connects to Redis; tune, when not nil, adjusts the client's
// options first.
func (f *marketFlags) open(ctx context.Context, tune func(*redis.Options)) (*redis.Client, protocol.Market, error) {
	if f.market == "" {
		return nil, protocol.Market{}, errors.New("--market is required: give the market as NAMESPACE/NAME")
	}
	m, err := protocol.ParseMarket(f.market)
	if err != nil {
		return nil, m, err
	}
	opt, err := redisconn.Options(f.redisURL)
	if err != nil {
		return nil, m, fmt.Errorf("--redis: %w", err)
	}
	if tune != nil {
		tune(opt)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, m, fmt.Errorf("connect to Redis at %s: %w", opt.Addr, err)
	}
	return rdb, m, nil
}

// engineConn sets up the engine's connections to Redis for its one P (see oneP):
//   - RESP2 unless the URL asks for a protocol (?protocol=3). The engine reads and writes
//     on connections of its own for a whole session, and go-redis peeks at such a RESP3
//     connection's socket for push messages before every command: a system call per read
//     and per batch written, for messages the engine never asks for.
//   - Reads and writes the scheduler does not hear of (redisconn.DirectIO). In the latency
//     benchmark they take about a quarter off the engine's CPU per batch, and its work
//     stays on one thread instead of passing between three.
func engineConn(opt *redis.Options) {
	if opt.Protocol == 0 {
		opt.Protocol = 2
	}
	redisconn.DirectIO(opt)
}

// oneP runs the engine on one P (GOMAXPROCS=1) unless the environment sets GOMAXPROCS.
// The engine reads, applies and writes in three goroutines that mostly wait for Redis, in
// turn; with a second P, every hand-over between them wakes a thread for it. In the
// latency benchmark one P takes about a sixth off the engine's CPU per batch. Under a
// flood one P needs no more CPU per order than Redis, single-threaded, spends on the same
// order, so a second one would not make the market faster. (In a pod with the default CPU
// limit, one CPU, Go chooses one P anyway.)
func oneP() {
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		runtime.GOMAXPROCS(1)
	}
}

func newEngineCmd() *cobra.Command {
	var (
		mf         marketFlags
		configFile string
		httpAddr   string
		adminToken string
		leaseTTL   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Run the engine of one market: apply orders, publish ticks, serve the dashboard",
		Long: `Run the engine of one market. It reads the orders of every registered trader from Redis
Streams, applies the rules and publishes ticks, results, gibbs and scores. Only one engine
applies orders per market: a second one waits and takes over when the first stops.

It serves the dashboard, its JSON API (/api/...), /metrics, /healthz and /readyz.`,
		Example: `  monkonomy engine --redis redis://127.0.0.1:6379 --market default/demo --config market.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			oneP()
			var settings protocol.Settings
			if configFile != "" {
				s, err := protocol.LoadSettings(configFile)
				if err != nil {
					return err
				}
				settings = s
			}
			rdb, market, err := mf.open(ctx, engineConn)
			if err != nil {
				return err
			}
			defer rdb.Close()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			eng, err := engine.New(engine.Options{Redis: rdb, Market: market, Settings: settings,
				Log: log, AdminToken: adminToken, LeaseTTL: leaseTTL})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", httpAddr)
			if err != nil {
				return fmt.Errorf("listen on --http %s: %w", httpAddr, err)
			}
			srv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 10 * time.Second,
				// Event streams end with the engine, so shutting down does not wait for them.
				BaseContext: func(net.Listener) context.Context { return ctx }}
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("HTTP server stopped", "err", err)
				}
			}()
			log.Info("Serving HTTP", "addr", ln.Addr().String(), "market", market.String())
			err = eng.Run(ctx)
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			return err
		},
	}
	mf.add(cmd)
	cmd.Flags().StringVar(&configFile, "config", "", "market settings file (YAML or JSON), as the operator writes it")
	cmd.Flags().StringVar(&httpAddr, "http", ":8080", "address to serve the dashboard, API and metrics on")
	cmd.Flags().StringVar(&adminToken, "admin-token", os.Getenv("MONKONOMY_ADMIN_TOKEN"), "token required to post gibbs over HTTP (env MONKONOMY_ADMIN_TOKEN); empty: anyone may post")
	cmd.Flags().DurationVar(&leaseTTL, "lease-ttl", 5*time.Second, "how long the lease lasts without renewal: a waiting engine takes over this long after this one dies")
	return cmd
}
