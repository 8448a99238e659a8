//go:build !linux

package redisconn

import "github.com/redis/go-redis/v9"

// DirectIO leaves opt as it is: system calls the scheduler does not hear of are made on
// Linux only.
func DirectIO(opt *redis.Options) {}
