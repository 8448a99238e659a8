package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// invalidations is the channel Redis sends a RESP2 connection the keys that changed, for
// the connections whose tracking redirects to it.
const invalidations = "__redis__:invalidate"

// doorbell tells the reader which of the market's orders streams changed since it last
// asked, so that a reader that has caught up waits for it to ring, then reads those streams
// only, instead of waiting with XREAD BLOCK on every stream.
//
// Redis registers a blocked XREAD with each stream it names, and removes it from each when
// an order wakes it: the wait costs Redis about a microsecond per trader (100–127 µs with
// 100 traders, 387 µs with 500), once per batch. The doorbell costs the same whatever the
// room. It is client-side caching's broadcasting mode: a connection asks Redis to track
// every key with the prefixes of the orders streams and the inbox (CLIENT TRACKING ON
// BCAST), and to send their names, as they change, to a second connection subscribed to
// Redis's invalidation channel. Redis sends them once per turn of its event loop, all the
// keys that changed in it in one message, so a trader's pipeline of orders costs one.
//
// An order is never left unread for a broken doorbell: the reader reads every stream
// whenever no ring came for as long as it would have blocked, and a doorbell that stayed
// silent about an order it then found breaks. A broken doorbell, and a Redis that refuses
// tracking (an old one, a proxy, the arena's embedded server), leave the reader waiting
// with XREAD BLOCK.
type doorbell struct {
	sub   *redis.Client // of the two connections
	ps    *redis.PubSub
	track *redis.Conn
	rang  chan struct{} // holds a token once a key changed since the reader last took them
	gone  chan struct{} // closed when the doorbell breaks or closes
	once  sync.Once
	err   error // why it broke: set before gone is closed

	mu      sync.Mutex
	changed map[string]struct{} // filled by the listener
	taken   map[string]struct{} // what wait returned last, the reader's until it waits again
}

// openDoorbell connects the doorbell of the keys with the given prefixes, on the Redis of
// rdb. It returns an error when Redis refuses it.
func openDoorbell(ctx context.Context, rdb *redis.Client, prefixes ...string) (*doorbell, error) {
	opt := *rdb.Options()
	// Redis sends a RESP3 connection its invalidations as push messages, which go-redis's
	// PubSub does not hand over; to a RESP2 one, as messages of the invalidation channel.
	opt.Protocol = 2
	opt.MaintNotificationsConfig = nil
	// The subscription has a connection of its own; the pool holds the tracking one.
	opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns = 1, 0, 0
	var subID atomic.Int64
	onConnect := opt.OnConnect
	opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		if onConnect != nil {
			if err := onConnect(ctx, cn); err != nil {
				return err
			}
		}
		// The subscription's connection is the client's first.
		id, err := cn.ClientID(ctx).Result()
		subID.CompareAndSwap(0, id)
		return err
	}
	b := &doorbell{sub: redis.NewClient(&opt), rang: make(chan struct{}, 1), gone: make(chan struct{}),
		changed: map[string]struct{}{}, taken: map[string]struct{}{}}
	b.ps = b.sub.Subscribe(ctx, invalidations)
	if _, err := b.ps.Receive(ctx); err != nil {
		b.close()
		return nil, err
	}
	args := []any{"client", "tracking", "on", "redirect", subID.Load(), "bcast"}
	for _, p := range prefixes {
		args = append(args, "prefix", p)
	}
	b.track = b.sub.Conn()
	if err := b.track.Do(ctx, args...).Err(); err != nil {
		b.close()
		return nil, err
	}
	go b.listen(ctx)
	return b, nil
}

// listen takes the names of the keys that changed from Redis's messages until the
// subscription fails or the doorbell closes.
func (b *doorbell) listen(ctx context.Context) {
	for {
		m, err := b.ps.Receive(ctx)
		if err != nil {
			// Besides a failed connection: a FLUSHALL's message names no key, which go-redis
			// cannot read. A market whose keys are flushed restarts from nothing anyway.
			b.fail(err)
			return
		}
		msg, ok := m.(*redis.Message)
		if !ok || msg.Channel != invalidations {
			continue
		}
		b.mu.Lock()
		for _, k := range msg.PayloadSlice {
			b.changed[k] = struct{}{}
		}
		b.mu.Unlock()
		select {
		case b.rang <- struct{}{}:
		default:
		}
	}
}

// wait waits up to block for the doorbell to ring, and returns the keys that changed since
// the last ring it returned, valid until the next call. It returns rang false when no ring
// came, or the doorbell broke.
func (b *doorbell) wait(ctx context.Context, block time.Duration) (changed map[string]struct{}, rang bool) {
	t := time.NewTimer(block)
	defer t.Stop()
	select {
	case <-b.rang:
	case <-t.C:
		return nil, false
	case <-b.gone:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// The two sets take turns, so that a ring, once a batch, makes no new map.
	clear(b.taken)
	b.changed, b.taken = b.taken, b.changed
	return b.taken, true
}

// missed is called when a read of every stream, after no ring came for a whole wait, found
// orders. Their ring may still be on its way: Redis sends it before its answer to the read,
// but the listener may not have taken it yet. The doorbell breaks when none comes soon.
func (b *doorbell) missed() {
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-b.rang:
		// The ring stays with the reader: its next wait reads the streams it names again,
		// most likely finding nothing new, rather than leave another order waiting.
		select {
		case b.rang <- struct{}{}:
		default:
		}
	case <-b.gone:
	case <-t.C:
		b.fail(errors.New("Redis sent no invalidation for an order"))
	}
}

// fail breaks the doorbell for the reason given, unless it is broken or closed already.
func (b *doorbell) fail(err error) {
	b.once.Do(func() {
		b.err = err
		close(b.gone)
	})
}

// broken says why the doorbell broke, or nil while it works.
func (b *doorbell) broken() error {
	select {
	case <-b.gone:
		return b.err
	default:
		return nil
	}
}

// close disconnects the doorbell: closing its connections ends the tracking.
func (b *doorbell) close() {
	b.fail(errors.New("closed"))
	_ = b.ps.Close()
	if b.track != nil {
		_ = b.track.Close()
	}
	_ = b.sub.Close()
}
