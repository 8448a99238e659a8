// Command team-trader is a complete Monkonomy trader written the way a team would write
// one from scratch: plain Redis commands (go-redis) on the streams of the documented
// protocol, and the connection from the environment the operator gives every trader pod.
//
// Each tick of an open market it feeds one monkey while it holds more than one share (a
// trader with a share is never bailed out), buys a share when its coins pay for it and
// leave a reserve, and plants all its coins but one whenever nothing is in flight, so
// that harvests keep it buying. It logs every result. The end-to-end tests run it as the image
// Trader; two more modes serve them:
//
//	team-trader                 trade until stopped
//	team-trader probe OTHER     try to append an order to trader OTHER's stream and
//	                            report whether Redis refused it (exit 0 when refused)
//	team-trader crash           fail at once, like a trader with a bug
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// env is the connection a trader pod gets from the operator.
type env struct {
	addr, username, password string
	market, trader, prefix   string
}

func readEnv() (env, error) {
	e := env{
		addr:     os.Getenv("MONKONOMY_REDIS_ADDR"),
		username: os.Getenv("MONKONOMY_REDIS_USERNAME"),
		password: os.Getenv("MONKONOMY_REDIS_PASSWORD"),
		market:   os.Getenv("MONKONOMY_MARKET"),
		trader:   os.Getenv("MONKONOMY_TRADER"),
		prefix:   os.Getenv("MONKONOMY_KEY_PREFIX"),
	}
	var missing []string
	for name, v := range map[string]string{"MONKONOMY_REDIS_ADDR": e.addr, "MONKONOMY_TRADER": e.trader, "MONKONOMY_KEY_PREFIX": e.prefix} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return e, fmt.Errorf("%s not set: run this as a Trader's image, or set them by hand", strings.Join(missing, ", "))
	}
	return e, nil
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	mode := "trade"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode == "crash" {
		log.Fatal("team-trader: crashing on purpose (mode crash)")
	}
	e, err := readEnv()
	if err != nil {
		log.Fatalf("team-trader: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e.addr, Username: e.username, Password: e.password})
	defer rdb.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	switch mode {
	case "trade":
		if err := trade(ctx, rdb, e); err != nil && ctx.Err() == nil {
			log.Fatalf("team-trader: %v", err)
		}
	case "probe":
		if len(os.Args) < 3 {
			log.Fatal("team-trader: usage: team-trader probe OTHER-TRADER")
		}
		os.Exit(probe(ctx, rdb, e, os.Args[2]))
	default:
		log.Fatalf("team-trader: unknown mode %q (trade, probe, crash)", mode)
	}
}

// probe appends an order to another trader's stream. Redis must refuse it: a trader's
// credentials write only its own orders.
func probe(ctx context.Context, rdb *redis.Client, e env, other string) int {
	err := rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: e.prefix + "orders:" + other,
		Values: []any{"v", "1", "kind", "feed", "qty", "1", "id", "forged-" + e.trader},
	}).Err()
	switch {
	case err != nil && strings.HasPrefix(err.Error(), "NOPERM"):
		fmt.Printf("refused: %v\n", err)
		return 0
	case err != nil:
		fmt.Printf("error: %v\n", err)
		return 2
	default:
		fmt.Println("allowed: the order was written to another trader's stream")
		return 1
	}
}

// account is what this trader knows of its own account, from its latest result.
type account struct {
	coins    int64 // micro-coins: amounts travel as decimal strings and stay exact
	shares   int64
	inFlight int64
}

func trade(ctx context.Context, rdb *redis.Client, e env) error {
	ticks := e.prefix + "ticks"
	results := e.prefix + "results:" + e.trader
	orders := e.prefix + "orders:" + e.trader
	acct := account{coins: 10_000_000, shares: 5}
	lastTick, lastResult, lastSeq := "$", "$", ""
	// After a restart the latest result says where the account stands.
	if last, err := rdb.XRevRangeN(ctx, results, "+", "-", 1).Result(); err == nil && len(last) == 1 {
		acct = applyResult(acct, last[0].Values)
		lastResult = last[0].ID
	}
	log.Printf("trading as %s in market %s", e.trader, e.market)
	for ctx.Err() == nil {
		streams, err := rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{ticks, results, lastTick, lastResult},
			Block:   2 * time.Second,
			Count:   100,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			// Redis restarts and failovers happen during a game: wait and read again.
			log.Printf("read: %v (retrying)", err)
			sleep(ctx, time.Second)
			continue
		}
		var price int64
		var seq, phase string
		for _, s := range streams {
			for _, m := range s.Messages {
				switch s.Stream {
				case results:
					lastResult = m.ID
					acct = applyResult(acct, m.Values)
				case ticks:
					lastTick = m.ID
					seq, phase = str(m.Values["seq"]), str(m.Values["phase"])
					price, _ = parseMicro(str(m.Values["price"]))
				}
			}
		}
		// A tick entry repeats its number when the phase changes; act once per open tick.
		if seq == "" || seq == lastSeq || phase != "open" {
			continue
		}
		lastSeq = seq
		for _, o := range decide(acct, price, seq) {
			if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: orders, Values: o}).Err(); err != nil {
				log.Printf("send order: %v", err)
			}
		}
	}
	return ctx.Err()
}

// reserve is what the trader keeps in coins rather than spend on shares: the seed of its
// plantations.
const reserve = 5_000_000

// decide returns this tick's orders.
func decide(a account, price int64, seq string) [][]any {
	var out [][]any
	if a.shares > 1 {
		out = append(out, []any{"v", "1", "id", "t" + seq + "-feed", "kind", "feed", "qty", "1"})
	}
	// A margin of 1 %: the price may move before the engine applies the order.
	if cost := price + price/100; price > 0 && a.coins >= cost+reserve {
		out = append(out, []any{"v", "1", "id", "t" + seq + "-buy", "kind", "buy", "qty", "1"})
		a.coins -= cost
	}
	if a.inFlight == 0 && a.coins >= 2_000_000 {
		out = append(out, []any{"v", "1", "id", "t" + seq + "-invest", "kind", "invest", "coins", formatMicro(a.coins - 1_000_000)})
	}
	return out
}

// formatMicro writes micro-coins as a decimal string with 6 decimals.
func formatMicro(m int64) string {
	return fmt.Sprintf("%d.%06d", m/1_000_000, m%1_000_000)
}

func applyResult(a account, v map[string]any) account {
	log.Printf("result %s %s %s: coins=%s shares=%s fed=%s score=%s %s",
		str(v["id"]), str(v["kind"]), str(v["status"]), str(v["coins"]), str(v["shares"]),
		str(v["fed"]), str(v["score"]), str(v["reason"]))
	if c, err := parseMicro(str(v["coins"])); err == nil {
		a.coins = c
	}
	if s, err := strconv.ParseInt(str(v["shares"]), 10, 64); err == nil {
		a.shares = s
	}
	if n, err := strconv.ParseInt(str(v["inflight"]), 10, 64); err == nil {
		a.inFlight = n
	}
	return a
}

// parseMicro reads a decimal amount such as "12.3456" as micro-coins.
func parseMicro(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		return 0, fmt.Errorf("amount %q has more than 6 decimals", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q: %w", s, err)
		}
	}
	if strings.HasPrefix(whole, "-") {
		return w*1_000_000 - f, nil
	}
	return w*1_000_000 + f, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
