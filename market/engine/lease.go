package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// errLeaseLost means another engine holds the market's lease: this one must stop applying.
var errLeaseLost = errors.New("the market's lease is held by another engine")

// acquireScript takes the lease when it is free. The lease's value is "<fence>:<owner>": the
// fence is a counter in the state hash that grows with every new holder, so a value is
// never reused and every batch transaction can check it still holds the lease.
var acquireScript = redis.NewScript(`
if redis.call('SET', KEYS[1], 'taking', 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
  local token = fence .. ':' .. ARGV[1]
  redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
  return token
end
return false
`)

// releaseScript gives the lease back if this engine still holds it, so a successor need not
// wait for it to expire.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// acquire waits until this engine holds the lease and returns its token.
func (e *Engine) acquire(ctx context.Context) (string, error) {
	poll := max(e.opts.LeaseTTL/5, 20*time.Millisecond)
	waiting := false
	for {
		v, err := acquireScript.Run(ctx, e.rdb, []string{e.keys.Lease(), e.keys.State()},
			e.opts.Owner, e.opts.LeaseTTL.Milliseconds()).Result()
		switch {
		case err == nil:
			token, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("lease script answered %T", v)
			}
			return token, nil
		case !errors.Is(err, redis.Nil):
			return "", fmt.Errorf("take lease %s: %w", e.keys.Lease(), err)
		}
		if !waiting {
			holder, _ := e.rdb.Get(ctx, e.keys.Lease()).Result()
			e.log.Info("Waiting for the market's lease held by another engine", "holder", holder)
			waiting = true
		}
		e.sleep(ctx, poll)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

// release gives the lease back if this engine still holds token.
func (e *Engine) release(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := releaseScript.Run(ctx, e.rdb, []string{e.keys.Lease()}, token).Err(); err != nil {
		e.log.Info("Could not release the market's lease; it expires by itself", "err", err)
	}
}
