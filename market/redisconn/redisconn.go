// Package redisconn builds the Redis client of every monkonomy command from one place: a
// redis:// URL or address given on the command line, overridden by the environment that
// the operator sets in pods (MONKONOMY_REDIS_ADDR, MONKONOMY_REDIS_USERNAME,
// MONKONOMY_REDIS_PASSWORD), so that passwords come from Secrets, never from arguments.
package redisconn

import (
	"fmt"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by Options.
const (
	EnvAddr     = "MONKONOMY_REDIS_ADDR"
	EnvUsername = "MONKONOMY_REDIS_USERNAME"
	EnvPassword = "MONKONOMY_REDIS_PASSWORD"
)

// DefaultAddr is used when neither a flag nor the environment names a server.
const DefaultAddr = "127.0.0.1:6379"

// Options returns client options for target (a redis:// or rediss:// URL, a host:port, or
// empty), with the environment filling in what target leaves out.
func Options(target string) (*redis.Options, error) {
	if target == "" {
		target = os.Getenv(EnvAddr)
	}
	if target == "" {
		target = DefaultAddr
	}
	var opts *redis.Options
	if strings.Contains(target, "://") {
		o, err := redis.ParseURL(target)
		if err != nil {
			return nil, fmt.Errorf("redis address %q: %w (use redis://[user:password@]host:port[/db] or host:port)", target, err)
		}
		opts = o
	} else {
		opts = &redis.Options{Addr: target}
	}
	if v := os.Getenv(EnvUsername); v != "" && opts.Username == "" {
		opts.Username = v
	}
	if v := os.Getenv(EnvPassword); v != "" && opts.Password == "" {
		opts.Password = v
	}
	return opts, nil
}
