package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// secretReader serves one Secret, or none, and counts the reads.
type secretReader struct {
	client.Reader
	secret *corev1.Secret
	gets   int
}

func (r *secretReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	r.gets++
	if r.secret == nil {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	r.secret.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

func TestMarketRedisPasswordIsReadOncePerTTL(t *testing.T) {
	m := &v1alpha1.Market{
		ObjectMeta: metav1.ObjectMeta{Name: "meetup", Namespace: "event"},
		Spec: v1alpha1.MarketSpec{Redis: &v1alpha1.RedisSpec{Address: "redis.event:6379", SecretRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "redis"}, Key: "password",
		}}},
	}
	secret := func(pw string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "redis", Namespace: "event"}, Data: map[string][]byte{"password": []byte(pw + "\n")}}
	}
	p := NewRedisPool(RedisTarget{Addr: "default:6379"})
	r := &secretReader{}
	ctx := context.Background()

	if _, err := p.targetOf(ctx, r, m); err == nil {
		t.Fatal("a missing Secret gave a target")
	}
	r.secret = secret("first")
	for range 3 {
		got, err := p.targetOf(ctx, r, m)
		if err != nil || got != (RedisTarget{Addr: "redis.event:6379", Password: "first"}) {
			t.Fatalf("targetOf = %+v, %v; want the address with password first", got, err)
		}
	}
	if r.gets != 2 {
		t.Errorf("the Secret was read %d times; want once for the error, which is not kept, and once for the password", r.gets)
	}

	r.secret = secret("second")
	key := secretRef{Namespace: "event", Name: "redis", Key: "password"}
	p.passwords[key] = readPassword{password: p.passwords[key].password, at: time.Now().Add(-passwordTTL)}
	if got, err := p.targetOf(ctx, r, m); err != nil || got.Password != "second" {
		t.Errorf("after passwordTTL, targetOf = %+v, %v; want the Secret's new password", got, err)
	}
}

// A client of a Market's Redis that is no longer asked for (its password changed, or its
// Market is gone) is closed after clientIdleTTL; the default server's client never is.
func TestRedisPoolClosesClientsNoLongerUsed(t *testing.T) {
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	p := NewRedisPool(RedisTarget{Addr: "default:6379"})
	p.now = func() time.Time { return now }
	client := func(target RedisTarget) *redis.Client {
		t.Helper()
		c, err := p.Client(target)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A closed client says so before it looks at the context; an open one gives up on it.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	closed := func(c *redis.Client) bool { return c.Ping(done).Err() == redis.ErrClosed }
	def := client(p.Default)
	old := client(RedisTarget{Addr: "redis.event:6379", Password: "first"})
	kept := client(RedisTarget{Addr: "other.event:6379"})

	now = now.Add(clientIdleTTL / 2)
	if client(RedisTarget{Addr: "other.event:6379"}) != kept {
		t.Fatal("a second ask for the same server gave another client")
	}
	now = now.Add(clientIdleTTL/2 + time.Second)
	rotated := client(RedisTarget{Addr: "redis.event:6379", Password: "second"})
	if !closed(old) {
		t.Errorf("the client with the old password is open after %v unused", clientIdleTTL+time.Second)
	}
	if closed(kept) || closed(def) || closed(rotated) {
		t.Errorf("closed a client in use (%v) or the default server's (%v) or the new one (%v)", closed(kept), closed(def), closed(rotated))
	}
	if len(p.clients) != 3 {
		t.Errorf("the pool holds %d clients, want 3: the default, the one in use and the new one", len(p.clients))
	}
	now = now.Add(24 * time.Hour)
	client(RedisTarget{Addr: "redis.event:6379", Password: "second"})
	if closed(def) || !closed(kept) {
		t.Errorf("a day later: default closed %v (want false), unused client closed %v (want true)", closed(def), closed(kept))
	}
}
