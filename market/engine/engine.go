// Package engine runs one market: it is the single writer of the market's state. It reads
// the orders of every registered trader and the inbox from Redis Streams, applies them
// with market/rules, and publishes ticks, results, gibbs and scores. Each batch is written
// in one MULTI/EXEC together with the cursors that say which orders it applied, so a crash
// never loses or repeats an order. A lease with a fencing token makes sure only one engine
// applies anything.
//
// It also serves the dashboard, its JSON API, Server-Sent Events and Prometheus metrics.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"k8s.io/utils/clock"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Options configure an engine. Redis and Market are required.
type Options struct {
	Redis    *redis.Client
	Market   protocol.Market
	Settings protocol.Settings

	// Clock is the wall clock. [the real clock]
	Clock clock.WithTicker
	Log   *slog.Logger

	// AdminToken, when set, is required as "Authorization: Bearer TOKEN" to post gibbs
	// over HTTP.
	AdminToken string

	// LeaseTTL is how long the lease lasts without renewal: a second engine takes over
	// this long after the first died. [5s]
	LeaseTTL time.Duration
	// BatchSize is about the most orders one read takes, over all streams; it takes at
	// least 32 from each stream. [2000]
	BatchSize int64
	// TicksMaxLen, ResultsMaxLen and GibbsMaxLen bound the published streams, trimmed
	// approximately to no fewer entries: ticks and gibbs with MAXLEN ~ on every entry, a
	// results stream with XTRIM ~ after every hundred results. ResultsMaxLen is also how
	// many results of each trader the engine remembers to answer a retried order id with
	// its first result, and about how many applied orders a trader's orders stream keeps:
	// it is trimmed with XTRIM MINID ~ after every ResultsMaxLen orders applied, never
	// past the engine's cursor. [100000, 2000, 10000]
	TicksMaxLen, ResultsMaxLen, GibbsMaxLen int64
	// DoorbellStreams is how many streams to read (the traders' orders streams and the
	// inbox) from which the engine, once it has caught up, waits for orders on a doorbell,
	// Redis's messages naming the streams that changed, instead of a blocking XREAD of every
	// stream, whose cost to Redis grows with the room (see doorbell). [100]
	DoorbellStreams int64
	// Owner names this engine in the lease; it defaults to the host name, process id
	// and a random suffix.
	Owner string
}

func (o *Options) setDefaults() error {
	if o.Redis == nil {
		return errors.New("engine needs a Redis client")
	}
	if err := protocol.ValidateName("market", o.Market.Name); err != nil {
		return err
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.BatchSize, 2000)
	def(&o.TicksMaxLen, 100_000)
	def(&o.ResultsMaxLen, 2000)
	def(&o.GibbsMaxLen, 10_000)
	def(&o.DoorbellStreams, 100)
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 5 * time.Second
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return nil
}

// Engine runs one market. Create it with New, serve Handler, and call Run once.
type Engine struct {
	opts    Options
	keys    protocol.Keys
	cfg     rules.Config
	cfgJSON []byte // cfg as stored in the state hash
	rdb     *redis.Client
	log     *slog.Logger
	clk     clock.WithTicker
	metrics *metrics
	handler http.Handler

	hub      *hub
	view     atomic.Pointer[view]
	leading  atomic.Bool
	caughtUp atomic.Bool
	gibbReqs chan *gibbRequest
}

// New checks the options and the market's settings and returns an engine.
func New(opts Options) (*Engine, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	cfg, err := opts.Settings.RulesConfig(opts.Market)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("engine: encode the market's rules: %w", err)
	}
	e := &Engine{
		opts:     opts,
		cfgJSON:  cfgJSON,
		keys:     opts.Market.Keys(),
		cfg:      cfg,
		rdb:      opts.Redis,
		log:      opts.Log.With("market", opts.Market.String()),
		clk:      opts.Clock,
		metrics:  newMetrics(),
		hub:      newHub(),
		gibbReqs: make(chan *gibbRequest, 64),
	}
	e.handler = e.routes()
	return e, nil
}

// Handler serves the dashboard, the JSON API, events, health and metrics.
func (e *Engine) Handler() http.Handler { return e.handler }

// Leading reports whether this engine holds the market's lease.
func (e *Engine) Leading() bool { return e.leading.Load() }

// Run plays the market until ctx ends: it waits for the lease, restores the market from
// Redis and applies orders; when Redis fails or the lease is lost it starts over.
func (e *Engine) Run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		token, err := e.acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			e.log.Error("Failed to take the market's lease; retrying", "err", err)
			e.sleep(ctx, backoff)
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		e.leading.Store(true)
		e.metrics.leader.Set(1)
		e.log.Info("Took the market's lease", "token", token)
		err = e.lead(ctx, token)
		e.leading.Store(false)
		e.caughtUp.Store(false)
		e.metrics.leader.Set(0)
		e.view.Store(nil)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errLeaseLost):
			e.log.Info("Lost the market's lease; waiting to take it again")
			backoff = 50 * time.Millisecond
		default:
			e.log.Error("Stopped leading the market; restoring it from Redis", "err", err)
			e.sleep(ctx, backoff)
			backoff = min(2*backoff, 2*time.Second)
		}
	}
	return nil
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) {
	t := e.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}
