package arena

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/redisconn"
)

// store is the Redis the arena plays on: an embedded Redis-protocol server, or a real one.
type store struct {
	addr     string // host:port, for the banner and the clients
	url      string // as given with --redis; empty for the embedded server
	embedded *miniredis.Miniredis
	opts     *redis.Options
}

// openStore starts the embedded server on a free loopback port, or checks that the Redis at
// url answers.
func openStore(ctx context.Context, url string) (*store, error) {
	if url == "" {
		m := miniredis.NewMiniRedis()
		// Keys with a time to live (the engine's lease) expire with the wall clock, as on
		// a real server.
		m.ClockTTL(true)
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start the embedded Redis server on a loopback port: %w", err)
		}
		return &store{addr: m.Addr(), embedded: m, opts: &redis.Options{Addr: m.Addr()}}, nil
	}
	opts, err := redisconn.Options(url)
	if err != nil {
		return nil, err
	}
	s := &store{addr: opts.Addr, url: url, opts: opts}
	c := s.client()
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		return nil, fmt.Errorf("connect to Redis at %s: %w (is it running? leave out --redis to use the embedded server)", opts.Addr, err)
	}
	return s, nil
}

// client returns a new client of the store; the caller closes it.
func (s *store) client() *redis.Client {
	o := *s.opts
	return redis.NewClient(&o)
}

func (s *store) close() {
	if s.embedded != nil {
		s.embedded.Close()
	}
}
