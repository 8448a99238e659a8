package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/redisconn"
)

// RedisTarget is a Redis server and the admin password the operator uses there.
type RedisTarget struct {
	Addr     string
	Password string
}

// RedisPool hands out one admin client per Redis server: the operator's own, and those
// that Markets name in spec.redis. The default server's client lives as long as the
// manager; another is closed once unused for clientIdleTTL (its Market was deleted or
// moved, or its password changed).
type RedisPool struct {
	Default RedisTarget

	mu        sync.Mutex
	clients   map[RedisTarget]*pooledClient
	passwords map[secretRef]readPassword
	now       func() time.Time
}

// pooledClient is a client of the pool and when it was last handed out.
type pooledClient struct {
	*redis.Client
	used time.Time
}

// clientIdleTTL is how long a client of a Market's own Redis is kept unused: the scoreboard
// asks for the client of every Market every second.
const clientIdleTTL = 10 * time.Minute

// passwordTTL is how long a password read from a Market's Secret is used before it is
// read again: the scoreboard asks every second.
const passwordTTL = 10 * time.Second

// secretRef names a key of a Secret in a namespace.
type secretRef struct{ Namespace, Name, Key string }

// readPassword is a password and when it was read.
type readPassword struct {
	password string
	at       time.Time
}

// NewRedisPool returns a pool whose default server is def.
func NewRedisPool(def RedisTarget) *RedisPool {
	return &RedisPool{Default: def, clients: map[RedisTarget]*pooledClient{}, passwords: map[secretRef]readPassword{}, now: time.Now}
}

// Client returns the admin client of target, and closes the clients of other servers that
// were not used for clientIdleTTL.
func (p *RedisPool) Client(target RedisTarget) (*redis.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for t, c := range p.clients {
		if t != p.Default && t != target && now.Sub(c.used) > clientIdleTTL {
			_ = c.Close()
			delete(p.clients, t)
		}
	}
	if c, ok := p.clients[target]; ok {
		c.used = now
		return c.Client, nil
	}
	opts, err := redisconn.Options(target.Addr)
	if err != nil {
		return nil, err
	}
	if target.Password != "" {
		opts.Password = target.Password
	}
	opts.ClientName = "monkonomy-operator"
	c := redis.NewClient(opts)
	p.clients[target] = &pooledClient{Client: c, used: now}
	return c, nil
}

// Close closes every client.
func (p *RedisPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, c := range p.clients {
		_ = c.Close()
		delete(p.clients, t)
	}
}

// targetOf resolves the Redis server of a Market. A Secret named in spec.redis.secretRef
// is read with reader, an uncached client, because the cache holds only the operator's
// own Secrets; the password read is used for passwordTTL.
func (p *RedisPool) targetOf(ctx context.Context, reader client.Reader, m *v1alpha1.Market) (RedisTarget, error) {
	if m.Spec.Redis == nil || m.Spec.Redis.Address == "" {
		return p.Default, nil
	}
	t := RedisTarget{Addr: m.Spec.Redis.Address}
	ref := m.Spec.Redis.SecretRef
	if ref == nil {
		return t, nil
	}
	key := secretRef{Namespace: m.Namespace, Name: ref.Name, Key: ref.Key}
	p.mu.Lock()
	read, ok := p.passwords[key]
	p.mu.Unlock()
	if ok && p.now().Sub(read.at) < passwordTTL {
		t.Password = read.password
		return t, nil
	}
	var s corev1.Secret
	if err := reader.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: ref.Name}, &s); err != nil {
		return t, fmt.Errorf("read the Redis password of market %s from Secret %s: %w", m.Name, ref.Name, err)
	}
	pw, ok := s.Data[ref.Key]
	if !ok {
		return t, fmt.Errorf("secret %s has no key %q with the Redis password of market %s: fix spec.redis.secretRef", ref.Name, ref.Key, m.Name)
	}
	t.Password = strings.TrimSpace(string(pw))
	p.mu.Lock()
	now := p.now()
	// Passwords of Secrets no Market has asked for in a while are forgotten with them.
	for k, read := range p.passwords {
		if now.Sub(read.at) > clientIdleTTL {
			delete(p.passwords, k)
		}
	}
	p.passwords[key] = readPassword{password: t.Password, at: now}
	p.mu.Unlock()
	return t, nil
}

// clientFor returns the admin client of a Market's Redis.
func (p *RedisPool) clientFor(ctx context.Context, reader client.Reader, m *v1alpha1.Market) (*redis.Client, RedisTarget, error) {
	t, err := p.targetOf(ctx, reader, m)
	if err != nil {
		return nil, t, err
	}
	c, err := p.Client(t)
	return c, t, err
}
