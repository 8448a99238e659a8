package controllers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// traderClient connects to Redis with the credentials the operator gave a trader.
func (w *world) traderClient(name string) *redis.Client {
	w.t.Helper()
	var s corev1.Secret
	w.eventually("trader "+name+" has credentials", func() (bool, string) {
		err := w.get("trader-"+name+"-redis", &s)
		return err == nil, fmt.Sprint(err)
	})
	c := redis.NewClient(&redis.Options{
		Addr: string(s.Data["address"]), Username: string(s.Data["username"]), Password: string(s.Data["password"]),
	})
	w.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (w *world) registered(k protocol.Keys, trader string) {
	w.t.Helper()
	w.eventually(trader+" is registered", func() (bool, string) {
		return w.admin.HExists(w.ctx, k.Traders(), trader).Val(), "not in the traders hash"
	})
}

func TestTraderRedisUserMayOnlyTradeAsItself(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Team Alice")
	w.trader("bob", "meetup", "Team Bob")
	k := protocol.Market{Namespace: w.ns, Name: "meetup"}.Keys()
	w.registered(k, "alice")
	w.registered(k, "bob")
	w.publishTick(k, 1, "1.000000", "open")
	w.admin.XAdd(w.ctx, &redis.XAddArgs{Stream: k.Gibbs(), Values: []string{"seq", "1", "author", "bob", "text", "banana"}})
	w.admin.XAdd(w.ctx, &redis.XAddArgs{Stream: k.Results("alice"), Values: []string{"id", "1", "status", "accepted"}})
	w.admin.XAdd(w.ctx, &redis.XAddArgs{Stream: k.Results("bob"), Values: []string{"id", "1", "status", "accepted"}})

	reg, _ := w.admin.HGet(w.ctx, k.Traders(), "alice").Result()
	var r struct{ Team string }
	if err := json.Unmarshal([]byte(reg), &r); err != nil || r.Team != "Team Alice" {
		t.Errorf("alice's registration = %q, want JSON with team \"Team Alice\"", reg)
	}

	alice := w.traderClient("alice")
	ctx := w.ctx
	allowed := map[string]func() error{
		"ping": func() error { return alice.Ping(ctx).Err() },
		"append to own orders": func() error {
			return alice.XAdd(ctx, &redis.XAddArgs{Stream: k.Orders("alice"), Values: []string{"kind", "buy", "qty", "1"}}).Err()
		},
		"read ticks": func() error { return alice.XRevRangeN(ctx, k.Ticks(), "+", "-", 1).Err() },
		"block on ticks and gibbs": func() error {
			return alice.XRead(ctx, &redis.XReadArgs{Streams: []string{k.Ticks(), k.Gibbs(), "0", "0"}, Count: 1}).Err()
		},
		"read own results":    func() error { return alice.XRange(ctx, k.Results("alice"), "-", "+").Err() },
		"count own results":   func() error { return alice.XLen(ctx, k.Results("alice")).Err() },
		"name the connection": func() error { return alice.Do(ctx, "client", "setname", "alice-bot").Err() },
	}
	for name, f := range allowed {
		if err := f(); err != nil {
			t.Errorf("alice may %s, but Redis said: %v", name, err)
		}
	}
	refused := map[string]func() error{
		"append to bob's orders": func() error {
			return alice.XAdd(ctx, &redis.XAddArgs{Stream: k.Orders("bob"), Values: []string{"kind", "buy", "qty", "1"}}).Err()
		},
		"read bob's results": func() error { return alice.XRange(ctx, k.Results("bob"), "-", "+").Err() },
		"read bob's results too": func() error {
			return alice.XRead(ctx, &redis.XReadArgs{Streams: []string{k.Results("bob"), "0"}}).Err()
		},
		"write ticks": func() error {
			return alice.XAdd(ctx, &redis.XAddArgs{Stream: k.Ticks(), Values: []string{"price", "1000"}}).Err()
		},
		"write gibbs": func() error {
			return alice.XAdd(ctx, &redis.XAddArgs{Stream: k.Gibbs(), Values: []string{"text", "banana mktd"}}).Err()
		},
		"read accounts":  func() error { return alice.HGetAll(ctx, k.Accounts()).Err() },
		"write accounts": func() error { return alice.HSet(ctx, k.Accounts(), "alice", `{"fed":1000}`).Err() },
		"write the inbox": func() error {
			return alice.XAdd(ctx, &redis.XAddArgs{Stream: k.Inbox(), Values: []string{"kind", "phase", "phase", "close"}}).Err()
		},
		"register a trader":        func() error { return alice.HSet(ctx, k.Traders(), "mallory", `{"team":"x"}`).Err() },
		"delete own orders":        func() error { return alice.Del(ctx, k.Orders("alice")).Err() },
		"trim own orders":          func() error { return alice.XTrimMaxLen(ctx, k.Orders("alice"), 0).Err() },
		"list keys":                func() error { return alice.Keys(ctx, "*").Err() },
		"read the ACL":             func() error { return alice.Do(ctx, "acl", "list").Err() },
		"change the config":        func() error { return alice.ConfigSet(ctx, "appendonly", "no").Err() },
		"read the scores":          func() error { return alice.ZRange(ctx, k.Scores(), 0, -1).Err() },
		"publish":                  func() error { return alice.Publish(ctx, "x", "y").Err() },
		"flush":                    func() error { return alice.FlushAll(ctx).Err() },
		"move the engine's cursor": func() error { return alice.HSet(ctx, k.Cursors(), k.Orders("alice"), "0-1").Err() },
	}
	for name, f := range refused {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("alice could %s (err %v); want NOPERM", name, err)
		}
	}
}

func TestTraderPodIsHardenedAndReachesOnlyRedis(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Alice", func(tr *v1alpha1.Trader) {
		tr.Spec.Strategy.Builtin.Params = map[string]string{"threshold": "1.02", "size": "3"}
	})
	var d appsv1.Deployment
	w.eventually("alice's Deployment exists", func() (bool, string) { return w.get("trader-alice", &d) == nil, "" })
	assertHardened(t, &d.Spec.Template.Spec)
	c := d.Spec.Template.Spec.Containers[0]
	want := []string{"trader", "--strategy", "momentum", "--param", "size=3", "--param", "threshold=1.02"}
	if c.Image != "example.test/monkonomy:test" || !slices.Equal(c.Args, want) {
		t.Errorf("trader runs %s %v; want the operator's image with %v", c.Image, c.Args, want)
	}
	env := envOf(c)
	for k, v := range map[string]string{
		envRedisAddr: w.redis.Addr, envRedisUsername: "secret:trader-alice-redis/username",
		envRedisPassword: "secret:trader-alice-redis/password", envMarket: w.ns + "/meetup", envTrader: "alice",
		envKeyPrefix: "mk:{" + w.ns + "/meetup}:",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if c.Resources.Limits.Memory().String() != "128Mi" {
		t.Errorf("memory limit = %s, want the default 128Mi", c.Resources.Limits.Memory())
	}
	assertGoMemLimit(t, c)
	var s corev1.Secret
	_ = w.get("trader-alice-redis", &s)
	if !slices.ContainsFunc(s.OwnerReferences, func(o metav1.OwnerReference) bool { return o.Kind == "Trader" && o.Name == "alice" }) {
		t.Errorf("the credentials Secret is not owned by its Trader: %v", s.OwnerReferences)
	}

	var np networkingv1.NetworkPolicy
	w.eventually("alice's NetworkPolicy exists", func() (bool, string) { return w.get("trader-alice", &np) == nil, "" })
	_, port := splitRedisAddr(w.redis.Addr)
	if len(np.Spec.Ingress) != 0 || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Errorf("ingress = %v (%v); want none allowed", np.Spec.Ingress, np.Spec.PolicyTypes)
	}
	if len(np.Spec.Egress) != 2 || np.Spec.Egress[0].Ports[0].Port.IntVal != port || np.Spec.Egress[0].To[0].IPBlock.CIDR != "127.0.0.1/32" {
		t.Errorf("egress = %+v; want Redis at 127.0.0.1:%d, and DNS", np.Spec.Egress, port)
	}
	if np.Spec.PodSelector.MatchLabels[LabelTrader] != "alice" {
		t.Errorf("the policy selects %v, not alice's pod", np.Spec.PodSelector)
	}

	// Suspending stops the pod and says so.
	var tr v1alpha1.Trader
	w.update("alice", &tr, func() { tr.Spec.Suspend = true })
	w.eventually("alice is Suspended with no pod", func() (bool, string) {
		_ = w.get("trader-alice", &d)
		_ = w.get("alice", &tr)
		return *d.Spec.Replicas == 0 && tr.Status.Phase == v1alpha1.TraderSuspended, string(tr.Status.Phase)
	})
}

func TestScriptTradersGetTheirScriptReadOnly(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("poet", "meetup", "Poets", func(tr *v1alpha1.Trader) {
		tr.Spec.Strategy = &v1alpha1.StrategySpec{Script: ptr.To("def on_tick(t):\n    return []\n")}
	})
	w.trader("own", "meetup", "Own", func(tr *v1alpha1.Trader) {
		tr.Spec.Strategy = &v1alpha1.StrategySpec{ScriptFrom: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "my-scripts"}, Key: "bot.star",
		}}
	})
	w.trader("image", "meetup", "Image", func(tr *v1alpha1.Trader) {
		tr.Spec.Strategy = nil
		tr.Spec.Image = &v1alpha1.ImageSpec{Name: "ghcr.io/team/bot:1", Args: []string{"--fast"}}
	})
	var cm corev1.ConfigMap
	w.eventually("the script is in a ConfigMap", func() (bool, string) {
		return w.get("trader-poet-script", &cm) == nil && strings.Contains(cm.Data["script.star"], "def on_tick"), ""
	})
	var d appsv1.Deployment
	w.eventually("poet's Deployment exists", func() (bool, string) { return w.get("trader-poet", &d) == nil, "" })
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"trader", "--script", "/etc/monkonomy/script/script.star"}) {
		t.Errorf("args = %v", c.Args)
	}
	if m := c.VolumeMounts[0]; m.MountPath != "/etc/monkonomy/script" || !m.ReadOnly {
		t.Errorf("script mount = %+v, want read-only at /etc/monkonomy/script", m)
	}
	w.eventually("own's Deployment exists", func() (bool, string) { return w.get("trader-own", &d) == nil, "" })
	v := d.Spec.Template.Spec.Volumes[0].ConfigMap
	if v.Name != "my-scripts" || v.Items[0].Key != "bot.star" || v.Items[0].Path != "script.star" {
		t.Errorf("scriptFrom volume = %+v, want key bot.star of my-scripts as script.star", v)
	}
	w.eventually("image's Deployment exists", func() (bool, string) { return w.get("trader-image", &d) == nil, "" })
	c = d.Spec.Template.Spec.Containers[0]
	if c.Image != "ghcr.io/team/bot:1" || !slices.Equal(c.Args, []string{"--fast"}) || envOf(c)[envTrader] != "image" {
		t.Errorf("team image container = %s %v env %v", c.Image, c.Args, envOf(c))
	}
	// A team's program is the team's: the operator does not tune its runtime.
	if v, ok := envOf(c)[envGoMemLimit]; ok {
		t.Errorf("the team's container has GOMEMLIMIT=%s, want none", v)
	}
	assertHardened(t, &d.Spec.Template.Spec)
}

func TestTraderPhaseFollowsItsPod(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Alice")
	var tr v1alpha1.Trader
	w.eventually("alice is Pending without a pod", func() (bool, string) {
		_ = w.get("alice", &tr)
		r := condition(tr.Status.Conditions, v1alpha1.TraderReady)
		return tr.Status.Phase == v1alpha1.TraderPending && r.Reason == "PodNotCreated", describe(tr.Status.Conditions)
	})
	// No kubelet here: the test makes the pod the Deployment would have made.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "trader-alice-abc", Namespace: w.ns, Labels: traderLabels(&tr)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "trader", Image: "x"}}},
	}
	if err := k8s.Create(w.ctx, pod); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	pod.Status = corev1.PodStatus{
		Phase:             corev1.PodRunning,
		Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "trader", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
	}
	if err := k8s.Status().Update(w.ctx, pod); err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	w.eventually("alice is Running and Ready", func() (bool, string) {
		_ = w.get("alice", &tr)
		return tr.Status.Phase == v1alpha1.TraderRunning && condition(tr.Status.Conditions, v1alpha1.TraderReady).Status == metav1.ConditionTrue,
			describe(tr.Status.Conditions)
	})
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions[0].Status = corev1.ConditionFalse
	pod.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "trader", RestartCount: 5, State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"},
	}}
	if err := k8s.Status().Update(w.ctx, pod); err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	w.eventually("alice is Crashed", func() (bool, string) {
		_ = w.get("alice", &tr)
		r := condition(tr.Status.Conditions, v1alpha1.TraderReady)
		return tr.Status.Phase == v1alpha1.TraderCrashed && r.Reason == "CrashLoopBackOff" && strings.Contains(r.Message, "kubectl logs"),
			describe(tr.Status.Conditions)
	})
}

func TestTraderWaitsForItsMarket(t *testing.T) {
	w := newWorld(t)
	w.trader("early", "later", "Early Birds")
	var tr v1alpha1.Trader
	w.eventually("the trader says its market is missing", func() (bool, string) {
		_ = w.get("early", &tr)
		r := condition(tr.Status.Conditions, v1alpha1.TraderReady)
		return r.Reason == "MarketNotFound" && strings.Contains(r.Message, "Market later does not exist"), describe(tr.Status.Conditions)
	})
	w.market("later")
	w.registered(protocol.Market{Namespace: w.ns, Name: "later"}.Keys(), "early")
	w.eventually("the trader is owned by its market", func() (bool, string) {
		_ = w.get("early", &tr)
		return slices.ContainsFunc(tr.OwnerReferences, func(o metav1.OwnerReference) bool { return o.Kind == "Market" && o.Name == "later" }), ""
	})
}

func TestDeletingATraderRemovesItsRedisUser(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Alice")
	pm := protocol.Market{Namespace: w.ns, Name: "meetup"}
	w.registered(pm.Keys(), "alice")
	alice := w.traderClient("alice")
	if err := alice.Ping(w.ctx).Err(); err != nil {
		t.Fatalf("alice cannot log in: %v", err)
	}
	var tr v1alpha1.Trader
	_ = w.get("alice", &tr)
	if err := k8s.Delete(w.ctx, &tr); err != nil {
		t.Fatalf("delete: %v", err)
	}
	w.eventually("alice is gone", func() (bool, string) {
		err := w.get("alice", &tr)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if w.admin.HExists(w.ctx, pm.Keys().Traders(), "alice").Val() {
		t.Errorf("alice is still registered in the market")
	}
	users, _ := aclUsers(w.ctx, w.admin)
	if users[traderUser(pm, "alice")] {
		t.Errorf("alice's Redis user survived her")
	}
	// A new connection with the password alice was given.
	c := redis.NewClient(alice.Options())
	defer c.Close()
	if err := c.Ping(w.ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("a deleted trader can still log in with its password (err %v); want WRONGPASS", err)
	}
}

func TestLostRedisUsersAreRestored(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Alice")
	pm := protocol.Market{Namespace: w.ns, Name: "meetup"}
	w.registered(pm.Keys(), "alice")
	alice := w.traderClient("alice")
	user := traderUser(pm, "alice")
	canTrade := func() (bool, string) {
		err := alice.XAdd(w.ctx, &redis.XAddArgs{Stream: pm.Keys().Orders("alice"), Values: []string{"kind", "feed", "qty", "1"}}).Err()
		return err == nil && w.admin.HExists(w.ctx, pm.Keys().Traders(), "alice").Val(), fmt.Sprint(err)
	}
	w.eventually("alice can trade", canTrade)

	if err := w.admin.Do(w.ctx, "acl", "deluser", user).Err(); err != nil {
		t.Fatalf("acl deluser: %v", err)
	}
	alice.Close()
	alice = w.traderClient("alice")
	w.eventually("alice's user is back after ACL DELUSER", canTrade)

	// A restart without persistence forgets users and registrations alike.
	w.redis.Stop()
	w.redis.Restart()
	w.eventually("alice's user and registration are back after a restart", canTrade)
}
