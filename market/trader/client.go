// Package trader is the Go SDK for writing a trader of the banana market, and the runtime
// that plays a strategy live.
//
// A Client connects to a market's Redis, reads the ticks, the public gibbs and its own
// results, and sends orders with ids of its own. A failed send is retried with the same id
// until Redis takes it; the engine applies an order id at most once, so a retry after a
// lost connection never doubles an order. Reading resumes where it stopped after a
// reconnection, with backoff.
//
//	c, err := trader.Connect(ctx, trader.FromEnv())
//	if err != nil {
//		log.Fatal(err)
//	}
//	err = c.Listen(ctx, trader.Handlers{OnTick: func(t protocol.Tick) {
//		if t.Forecast > rules.MicrosPerCoin {
//			c.Buy(ctx, 1)
//		} else {
//			c.Sell(ctx, 1)
//		}
//	}})
//
// Run plays a strategy of market/trader/strategy live on a Client: the `monkonomy trader`
// command and the arena's built-in bots use it.
//
//	err := trader.Run(ctx, c, strat, logger)
package trader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/redisconn"
	"github.com/monkonomy/monkonomy/market/rules"
)

// Environment variables read by FromEnv, as the operator sets them in a trader's pod (with
// redisconn's MONKONOMY_REDIS_ADDR, MONKONOMY_REDIS_USERNAME and MONKONOMY_REDIS_PASSWORD).
const (
	EnvMarket    = "MONKONOMY_MARKET"     // NS/NAME, or NAME in the default namespace
	EnvTrader    = "MONKONOMY_TRADER"     // this trader's name
	EnvKeyPrefix = "MONKONOMY_KEY_PREFIX" // optional: the market's key prefix, e.g. mk:{default/arena}:
)

// Options say where a trader plays.
type Options struct {
	// Redis is an existing client (the arena passes its own); when nil, one is made from
	// Addr, Username and Password.
	Redis *redis.Client
	// Addr is a host:port or a redis:// URL; empty means MONKONOMY_REDIS_ADDR.
	Addr, Username, Password string
	// Market is NS/NAME (or NAME in the default namespace).
	Market string
	// Trader is the trader's name, as registered with the market.
	Trader string
	// KeyPrefix overrides the market's key prefix; empty means the market's own keys.
	KeyPrefix string
	// Log receives reconnections; nil means slog.Default().
	Log *slog.Logger
	// Block is how long one read waits for news before it asks again [1s].
	Block time.Duration
	// MaxBackoff is the longest wait between two tries after Redis failed [5s].
	MaxBackoff time.Duration
}

// FromEnv reads Options from the environment of a trader's pod.
func FromEnv() Options {
	return Options{
		Addr:      os.Getenv(redisconn.EnvAddr),
		Username:  os.Getenv(redisconn.EnvUsername),
		Password:  os.Getenv(redisconn.EnvPassword),
		Market:    os.Getenv(EnvMarket),
		Trader:    os.Getenv(EnvTrader),
		KeyPrefix: os.Getenv(EnvKeyPrefix),
	}
}

// Client is one trader's connection to its market. Its methods are safe for concurrent use.
type Client struct {
	rdb     *redis.Client
	own     bool // rdb was made by Connect and is closed by Close
	market  protocol.Market
	trader  string
	keys    protocol.Keys
	log     *slog.Logger
	block   time.Duration
	backoff time.Duration

	session string // prefix of generated order ids, unique per Client
	seq     atomic.Int64

	mu       sync.Mutex
	account  rules.Account
	score    int64
	lastTick protocol.Tick
	// Stream positions to read from: concrete ids, so that a reconnection loses nothing.
	tickID, gibbID, resultID string
}

// Connect checks the options, reads where the market stands (the latest tick and this
// trader's latest result, which gives its account) and returns a Client. It waits for
// Redis, with backoff, until ctx ends.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	if opts.Market == "" {
		return nil, fmt.Errorf("no market given: set %s to NAMESPACE/NAME (or pass --market)", EnvMarket)
	}
	mk, err := protocol.ParseMarket(opts.Market)
	if err != nil {
		return nil, err
	}
	if opts.Trader == "" {
		return nil, fmt.Errorf("no trader name given: set %s to the name the market registered (or pass --trader)", EnvTrader)
	}
	if err := protocol.ValidateName("trader", opts.Trader); err != nil {
		return nil, err
	}
	c := &Client{
		rdb: opts.Redis, market: mk, trader: opts.Trader, keys: mk.Keys(), log: opts.Log,
		block: opts.Block, backoff: opts.MaxBackoff,
	}
	if opts.KeyPrefix != "" {
		c.keys = protocol.Keys{Prefix: opts.KeyPrefix}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("market", mk.String(), "trader", opts.Trader)
	if c.block <= 0 {
		c.block = time.Second
	}
	if c.backoff <= 0 {
		c.backoff = 5 * time.Second
	}
	if c.rdb == nil {
		ro, err := redisconn.Options(opts.Addr)
		if err != nil {
			return nil, err
		}
		if opts.Username != "" {
			ro.Username = opts.Username
		}
		if opts.Password != "" {
			ro.Password = opts.Password
		}
		c.rdb, c.own = redis.NewClient(ro), true
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	c.session = hex.EncodeToString(b[:])
	c.account = rules.Account{Coins: rules.DefaultInitialCoins, Shares: rules.DefaultInitialShares}
	if err := c.retry(ctx, "read the market's latest tick and results", c.position); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// position finds the latest tick, gibb and result: reading starts after them, and the
// latest result tells the account.
func (c *Client) position(ctx context.Context) error {
	last := func(key string) (redis.XMessage, bool, error) {
		msgs, err := c.rdb.XRevRangeN(ctx, key, "+", "-", 1).Result()
		if err != nil || len(msgs) == 0 {
			return redis.XMessage{}, false, err
		}
		return msgs[0], true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickID, c.gibbID, c.resultID = "0-0", "0-0", "0-0"
	if m, ok, err := last(c.keys.Ticks()); err != nil {
		return err
	} else if ok {
		c.tickID = m.ID
		if t, err := protocol.DecodeTick(m); err == nil {
			c.lastTick = t
		}
	}
	if m, ok, err := last(c.keys.Gibbs()); err != nil {
		return err
	} else if ok {
		c.gibbID = m.ID
	}
	if m, ok, err := last(c.keys.Results(c.trader)); err != nil {
		return err
	} else if ok {
		c.resultID = m.ID
		if r, err := protocol.DecodeResult(m); err == nil {
			c.account, c.score = r.Account, r.Score
		}
	}
	return nil
}

// Close closes the Redis client when Connect made it.
func (c *Client) Close() error {
	if c.own {
		return c.rdb.Close()
	}
	return nil
}

// Trader is this trader's name.
func (c *Client) Trader() string { return c.trader }

// Market is the market this trader plays in.
func (c *Client) Market() protocol.Market { return c.market }

// Account is the trader's account and its score, as the market computed them, as of its
// latest result (the rules' default initial account and 0 before its first one). Coins,
// Shares, Fed, Bailouts and InFlight are set; results do not carry the other fields.
func (c *Client) Account() (rules.Account, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account, c.score
}

// LastTick is the latest tick read (Seq 0 before the first).
func (c *Client) LastTick() protocol.Tick {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastTick
}

// Handlers receive what the market publishes, in the order it is read, from the goroutine
// that called Listen. Any of them may be nil.
type Handlers struct {
	OnTick   func(protocol.Tick)
	OnResult func(protocol.Result)
	OnGibb   func(protocol.Gibb)
}

// Listen reads the ticks, the gibbs and this trader's results until ctx ends, and calls
// the handlers; once ctx ends, no handler is called again. It reconnects on its own; it
// returns ctx's error.
func (c *Client) Listen(ctx context.Context, h Handlers) error {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		c.mu.Lock()
		streams := []string{c.keys.Ticks(), c.keys.Gibbs(), c.keys.Results(c.trader), c.tickID, c.gibbID, c.resultID}
		c.mu.Unlock()
		res, err := c.rdb.XRead(ctx, &redis.XReadArgs{Streams: streams, Block: c.block, Count: 100}).Result()
		if errors.Is(err, redis.Nil) {
			wait = 100 * time.Millisecond
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("Lost the market's streams; reading them again", "err", err, "in", wait)
			sleep(ctx, wait)
			wait = min(2*wait, c.backoff)
			continue
		}
		wait = 100 * time.Millisecond
		for _, s := range res {
			for _, m := range s.Messages {
				// A handler that ends ctx gets nothing more, not even the rest of this read.
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.dispatch(s.Stream, m, h)
			}
		}
	}
	return ctx.Err()
}

func (c *Client) dispatch(stream string, m redis.XMessage, h Handlers) {
	switch stream {
	case c.keys.Ticks():
		t, err := protocol.DecodeTick(m)
		c.mu.Lock()
		c.tickID = m.ID
		if err == nil {
			c.lastTick = t
		}
		c.mu.Unlock()
		if err != nil {
			c.log.Error("Skipped a tick that cannot be read", "entry", m.ID, "err", err)
		} else if h.OnTick != nil {
			h.OnTick(t)
		}
	case c.keys.Gibbs():
		g, err := protocol.DecodeGibb(m)
		c.mu.Lock()
		c.gibbID = m.ID
		c.mu.Unlock()
		if err != nil {
			c.log.Error("Skipped a gibb that cannot be read", "entry", m.ID, "err", err)
		} else if h.OnGibb != nil {
			h.OnGibb(g)
		}
	default:
		r, err := protocol.DecodeResult(m)
		c.mu.Lock()
		c.resultID = m.ID
		if err == nil {
			c.account, c.score = r.Account, r.Score
		}
		c.mu.Unlock()
		if err != nil {
			c.log.Error("Skipped a result that cannot be read", "entry", m.ID, "err", err)
		} else if h.OnResult != nil {
			h.OnResult(r)
		}
	}
}

// NewID returns a fresh order id: unique for this Client (a random session prefix and a
// counter), 1–64 of the allowed characters.
func (c *Client) NewID() string {
	return c.session + "-" + strconv.FormatInt(c.seq.Add(1), 10)
}

// Send appends an order to this trader's orders stream and returns its id. An order with
// no ID gets a fresh one. When Redis fails, Send retries with the same id (the engine
// applies an id once) until it succeeds or ctx ends.
func (c *Client) Send(ctx context.Context, o rules.Order) (string, error) {
	if o.ID == "" {
		o.ID = c.NewID()
	}
	if !protocol.ValidID(o.ID) {
		return "", fmt.Errorf("order id %q: use 1-%d of A-Z a-z 0-9 . _ : -", o.ID, protocol.MaxIDLen)
	}
	args := protocol.AppendOrder(nil, o)
	err := c.retry(ctx, "send order "+o.ID, func(ctx context.Context) error {
		return c.rdb.XAdd(ctx, &redis.XAddArgs{Stream: c.keys.Orders(c.trader), Values: args}).Err()
	})
	return o.ID, err
}

// Buy sends a buy order for n shares.
func (c *Client) Buy(ctx context.Context, n int64) (string, error) {
	return c.Send(ctx, rules.Order{Kind: rules.KindBuy, Qty: n})
}

// Sell sends a sell order for n shares.
func (c *Client) Sell(ctx context.Context, n int64) (string, error) {
	return c.Send(ctx, rules.Order{Kind: rules.KindSell, Qty: n})
}

// Feed sends an order to feed n monkeys.
func (c *Client) Feed(ctx context.Context, n int64) (string, error) {
	return c.Send(ctx, rules.Order{Kind: rules.KindFeed, Qty: n})
}

// Invest sends an order to plant coins (exact, in micro-coins: rules.Coins(3) is 3 coins).
func (c *Client) Invest(ctx context.Context, coins rules.Micro) (string, error) {
	return c.Send(ctx, rules.Order{Kind: rules.KindInvest, Coins: coins})
}

// Gibb posts text to the market's feed, as this trader.
func (c *Client) Gibb(ctx context.Context, text string) (string, error) {
	return c.Send(ctx, rules.Order{Kind: rules.KindGibb, Text: text})
}

// retry calls fn until it succeeds or ctx ends, waiting longer after each failure.
func (c *Client) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if isPermanent(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		c.log.Warn("Redis failed; retrying", "action", what, "err", err, "in", wait)
		sleep(ctx, wait)
		wait = min(2*wait, c.backoff)
	}
}

// isPermanent tells errors that waiting does not cure: wrong password, missing permission.
func isPermanent(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	for _, p := range []string{"NOPERM", "WRONGPASS", "NOAUTH", "WRONGTYPE"} {
		if strings.HasPrefix(rerr.Error(), p) {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
