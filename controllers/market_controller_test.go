package controllers

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

func TestMarketRunsItsEngine(t *testing.T) {
	w := newWorld(t)
	w.market("meetup", func(m *v1alpha1.Market) {
		m.Spec.Seed = ptr.To[int64](42)
		m.Spec.Duration = &metav1.Duration{Duration: 90 * time.Minute}
	})

	var cm corev1.ConfigMap
	w.eventually("the engine's settings exist", func() (bool, string) {
		return w.get("meetup-engine", &cm) == nil, "no ConfigMap meetup-engine"
	})
	var s protocol.Settings
	if err := yaml.UnmarshalStrict([]byte(cm.Data["market.yaml"]), &s); err != nil {
		t.Fatalf("market.yaml is not a settings file the engine reads: %v\n%s", err, cm.Data["market.yaml"])
	}
	if s.Seed == nil || *s.Seed != 42 || s.Duration.Duration != 90*time.Minute || s.TickInterval.Duration != time.Second || s.Rules.InitialCoins != "10" {
		t.Errorf("settings = %+v, want seed 42, duration 90m, tick 1s, 10 coins", s)
	}

	var d appsv1.Deployment
	w.eventually("the engine Deployment exists", func() (bool, string) {
		return w.get("meetup-engine", &d) == nil, "no Deployment meetup-engine"
	})
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("engine runs %d replicas with %s; want 1 with Recreate", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	c := d.Spec.Template.Spec.Containers[0]
	wantArgs := []string{"engine", "--market", w.ns + "/meetup", "--config", "/etc/monkonomy/market.yaml", "--http", ":8080"}
	if c.Image != "example.test/monkonomy:test" || !slices.Equal(c.Args, wantArgs) {
		t.Errorf("engine container runs %s %v; want the operator's image with %v", c.Image, c.Args, wantArgs)
	}
	assertHardened(t, &d.Spec.Template.Spec)
	env := envOf(c)
	assertGoMemLimit(t, c)
	if env[envRedisAddr] != w.redis.Addr {
		t.Errorf("MONKONOMY_REDIS_ADDR = %q, want %q", env[envRedisAddr], w.redis.Addr)
	}
	var pw corev1.Secret
	if err := w.get("meetup-engine-redis", &pw); err != nil || string(pw.Data["password"]) != w.redis.Password {
		t.Errorf("the engine's Redis password Secret is missing or wrong: %v", err)
	}
	if env[envRedisPassword] != "secret:meetup-engine-redis/password" {
		t.Errorf("MONKONOMY_REDIS_PASSWORD comes from %q, want the Secret meetup-engine-redis", env[envRedisPassword])
	}

	var svc corev1.Service
	w.eventually("the dashboard Service exists", func() (bool, string) {
		return w.get("meetup-engine", &svc) == nil, "no Service meetup-engine"
	})
	if svc.Spec.Ports[0].Port != 8080 || svc.Spec.Selector[LabelComponent] != "engine" {
		t.Errorf("service = %+v", svc.Spec)
	}

	var m v1alpha1.Market
	w.eventually("the Market reports its engine and dashboard", func() (bool, string) {
		if err := w.get("meetup", &m); err != nil {
			return false, err.Error()
		}
		ready := condition(m.Status.Conditions, v1alpha1.MarketReady)
		return m.Status.ObservedGeneration == m.Generation && ready.Reason != "" && m.Status.Phase == v1alpha1.MarketPending,
			describe(m.Status.Conditions) + " phase=" + string(m.Status.Phase)
	})
	if got := condition(m.Status.Conditions, v1alpha1.MarketEngineAvailable); got.Status != metav1.ConditionUnknown {
		t.Errorf("EngineAvailable = %s (%s), want Unknown until the Deployment reports", got.Status, got.Reason)
	}
	if want := "http://meetup-engine." + w.ns + ".svc:8080/"; m.Status.DashboardURL != want {
		t.Errorf("dashboardURL = %q, want %q", m.Status.DashboardURL, want)
	}
	if !slices.Contains(m.Finalizers, finalizer) {
		t.Errorf("finalizers = %v, want %s", m.Finalizers, finalizer)
	}
	w.eventually("an event tells the Deployment was created", func() (bool, string) {
		return hasEvent(w, "meetup", "CreatedDeployment", "Created Deployment meetup-engine")
	})

	// No kubelet runs here: the test plays the Deployment controller.
	d.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{{
		Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
		LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
	}}}
	if err := k8s.Status().Update(w.ctx, &d); err != nil {
		t.Fatalf("update deployment status: %v", err)
	}
	w.eventually("the Market is Ready", func() (bool, string) {
		_ = w.get("meetup", &m)
		return condition(m.Status.Conditions, v1alpha1.MarketReady).Status == metav1.ConditionTrue &&
			condition(m.Status.Conditions, v1alpha1.MarketEngineAvailable).Status == metav1.ConditionTrue, describe(m.Status.Conditions)
	})

	// A change of the game restarts the engine with new settings.
	oldHash := d.Spec.Template.Annotations[annotationConfig]
	w.update("meetup", &m, func() { m.Spec.TickInterval = &metav1.Duration{Duration: 500 * time.Millisecond} })
	w.eventually("the engine gets the new tick interval", func() (bool, string) {
		_ = w.get("meetup-engine", &cm)
		_ = w.get("meetup-engine", &d)
		return strings.Contains(cm.Data["market.yaml"], "tickInterval: 500ms") && d.Spec.Template.Annotations[annotationConfig] != oldHash,
			cm.Data["market.yaml"]
	})
	w.eventually("observedGeneration follows", func() (bool, string) {
		_ = w.get("meetup", &m)
		return m.Status.ObservedGeneration == m.Generation, fmt.Sprint(m.Status.ObservedGeneration, " != ", m.Generation)
	})
}

// An organiser keeps the engine on a node of its own: the labels it selects and the
// taint it tolerates reach its pod, and a change of them replaces it.
func TestEngineRunsWhereTheMarketPlacesIt(t *testing.T) {
	w := newWorld(t)
	selector := map[string]string{"monkonomy.dev/role": "market"}
	taint := []corev1.Toleration{{Key: "monkonomy.dev/role", Operator: corev1.TolerationOpEqual, Value: "market", Effect: corev1.TaintEffectNoSchedule}}
	w.market("placed", func(m *v1alpha1.Market) {
		m.Spec.Engine.NodeSelector = selector
		m.Spec.Engine.Tolerations = taint
	})
	var d appsv1.Deployment
	w.eventually("the engine Deployment selects the market's node and tolerates its taint", func() (bool, string) {
		if err := w.get("placed-engine", &d); err != nil {
			return false, err.Error()
		}
		p := d.Spec.Template.Spec
		return maps.Equal(p.NodeSelector, selector) && equality.Semantic.DeepEqual(p.Tolerations, taint),
			fmt.Sprintf("nodeSelector %v, tolerations %+v", p.NodeSelector, p.Tolerations)
	})

	var m v1alpha1.Market
	w.update("placed", &m, func() { m.Spec.Engine.NodeSelector = map[string]string{"monkonomy.dev/role": "engine"} })
	w.eventually("the engine follows the new node selector", func() (bool, string) {
		_ = w.get("placed-engine", &d)
		p := d.Spec.Template.Spec
		return p.NodeSelector["monkonomy.dev/role"] == "engine" && len(p.Tolerations) == 1, fmt.Sprintf("nodeSelector %v, tolerations %+v", p.NodeSelector, p.Tolerations)
	})
}

func TestSuspendPausesAndResumesTheMarket(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	keys := protocol.Market{Namespace: w.ns, Name: "meetup"}.Keys()
	w.publishTick(keys, 1, "1.000000", "open")

	var m v1alpha1.Market
	w.eventually("the Market shows the engine's tick", func() (bool, string) {
		_ = w.get("meetup", &m)
		return m.Status.Phase == v1alpha1.MarketOpen && m.Status.Tick == 1 && m.Status.Price == "1.000000" && m.Status.OpenedAt != nil,
			fmt.Sprintf("%+v", m.Status)
	})
	var d appsv1.Deployment
	w.eventually("the engine exists", func() (bool, string) { return w.get("meetup-engine", &d) == nil, "" })
	hash := d.Spec.Template.Annotations[annotationConfig]

	w.update("meetup", &m, func() { m.Spec.Suspend = true })
	w.eventually("the engine is asked to pause", func() (bool, string) { return w.inboxHas(keys, "pause") })
	var cm corev1.ConfigMap
	w.eventually("the settings say suspended and the Market is reconciled", func() (bool, string) {
		_ = w.get("meetup-engine", &cm)
		_ = w.get("meetup", &m)
		return strings.Contains(cm.Data["market.yaml"], "suspend: true") && m.Spec.Suspend && m.Status.ObservedGeneration == m.Generation,
			fmt.Sprint("observedGeneration ", m.Status.ObservedGeneration, " of ", m.Generation, "\n", cm.Data["market.yaml"])
	})
	if err := w.get("meetup-engine", &d); err != nil {
		t.Fatalf("read the engine: %v", err)
	}
	if d.Spec.Template.Annotations[annotationConfig] != hash {
		t.Errorf("suspending restarted the engine (config hash changed); pausing goes through the inbox")
	}

	w.publishTick(keys, 1, "1.000000", "paused")
	w.eventually("the Market shows Paused", func() (bool, string) {
		_ = w.get("meetup", &m)
		return m.Status.Phase == v1alpha1.MarketPaused, string(m.Status.Phase)
	})
	w.update("meetup", &m, func() { m.Spec.Suspend = false })
	w.eventually("the engine is asked to resume", func() (bool, string) { return w.inboxHas(keys, "resume") })

	// The engine closes the market when its duration has passed; the status follows.
	w.publishTick(keys, 2, "1.100000", "closed")
	w.eventually("the Market shows Closed", func() (bool, string) {
		_ = w.get("meetup", &m)
		return m.Status.Phase == v1alpha1.MarketClosed && m.Status.ClosedAt != nil, fmt.Sprintf("%+v", m.Status)
	})
}

func TestDeletingAMarketDeletesItsGameData(t *testing.T) {
	w := newWorld(t)
	w.market("meetup")
	w.trader("alice", "meetup", "Alice")
	keys := protocol.Market{Namespace: w.ns, Name: "meetup"}.Keys()
	w.eventually("alice is registered", func() (bool, string) {
		return w.admin.HExists(w.ctx, keys.Traders(), "alice").Val(), "not in the traders hash"
	})
	w.publishTick(keys, 1, "1.000000", "open")
	other := protocol.Market{Namespace: w.ns, Name: "other"}.Keys()
	w.admin.Set(w.ctx, other.State(), "keep me", 0)

	var m v1alpha1.Market
	var d appsv1.Deployment
	w.eventually("the engine Deployment exists", func() (bool, string) { return w.get("meetup-engine", &d) == nil, "" })
	_ = w.get("meetup", &m)
	// No kubelet runs here: the test makes the engine's pod the Deployment would have made.
	engine := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "meetup-engine-abc", Namespace: w.ns, Labels: engineLabels(&m)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "engine", Image: "x"}}},
	}
	if err := k8s.Create(w.ctx, engine); err != nil {
		t.Fatalf("create the engine pod: %v", err)
	}
	if err := k8s.Delete(w.ctx, &m); err != nil {
		t.Fatalf("delete market: %v", err)
	}
	w.eventually("the engine Deployment and alice are deleted", func() (bool, string) {
		errD, errT := w.get("meetup-engine", &d), w.get("alice", &v1alpha1.Trader{})
		return apierrors.IsNotFound(errD) && apierrors.IsNotFound(errT), fmt.Sprint(errD, "; ", errT)
	})
	// While an engine pod runs, it could write the market back: the data stays.
	for range 10 {
		time.Sleep(200 * time.Millisecond)
		if n := w.admin.Exists(w.ctx, keys.Ticks()).Val(); n != 1 {
			t.Fatalf("the market's data was deleted while its engine pod %s still existed", engine.Name)
		}
		if err := w.get("meetup", &m); err != nil {
			t.Fatalf("the Market went while its engine pod %s still existed: %v", engine.Name, err)
		}
	}
	if err := k8s.Delete(w.ctx, engine); err != nil {
		t.Fatalf("delete the engine pod: %v", err)
	}
	w.eventually("the Market is gone", func() (bool, string) {
		err := w.get("meetup", &m)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	left, _ := w.admin.Keys(w.ctx, "mk:*").Result()
	if !slices.Equal(left, []string{other.State()}) {
		t.Errorf("keys left in Redis: %v; want only the other market's", left)
	}
	users, _ := aclUsers(w.ctx, w.admin)
	if users[traderUser(protocol.Market{Namespace: w.ns, Name: "meetup"}, "alice")] {
		t.Errorf("alice's Redis user survived her market")
	}
}

// publishTick writes a tick as the engine does.
func (w *world) publishTick(k protocol.Keys, seq int, price, phase string) {
	w.t.Helper()
	p, err := rules.ParseMicro(price)
	if err != nil {
		w.t.Fatal(err)
	}
	ph, err := rules.ParsePhase(phase)
	if err != nil {
		w.t.Fatal(err)
	}
	tick := protocol.Tick{Seq: int64(seq), Price: p, Forecast: rules.MicrosPerCoin, EMA: p, Phase: ph, Time: time.Now()}
	err = w.admin.XAdd(w.ctx, &redis.XAddArgs{Stream: k.Ticks(), Values: protocol.AppendTick(nil, tick)}).Err()
	if err != nil {
		w.t.Fatalf("publish tick: %v", err)
	}
}

func (w *world) inboxHas(k protocol.Keys, phase string) (bool, string) {
	msgs, err := w.admin.XRange(w.ctx, k.Inbox(), "-", "+").Result()
	if err != nil {
		return false, err.Error()
	}
	for _, m := range msgs {
		// Read as the engine reads it: an entry it would refuse does not count.
		if in, err := protocol.DecodeInbox(m.Values); err == nil && in.Kind == protocol.InboxPhase && string(in.Phase) == phase {
			return true, ""
		}
	}
	return false, fmt.Sprintf("inbox: %v", msgs)
}

func hasEvent(w *world, regarding, reason, note string) (bool, string) {
	var list eventsv1.EventList
	if err := k8s.List(w.ctx, &list, client.InNamespace(w.ns)); err != nil {
		return false, err.Error()
	}
	var seen []string
	for _, e := range list.Items {
		if e.Regarding.Name == regarding && e.Reason == reason && strings.Contains(e.Note, note) {
			return true, ""
		}
		seen = append(seen, e.Regarding.Name+":"+e.Reason+":"+e.Note)
	}
	return false, strings.Join(seen, "; ")
}

// envOf maps a container's environment; a value from a Secret reads secret:NAME/KEY.
func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			out[e.Name] = e.Value
		}
	}
	return out
}

// assertGoMemLimit checks that a container of a Go program of the project tells the Go
// runtime nine tenths of its memory limit, so that it collects garbage harder before the
// kernel kills it.
func assertGoMemLimit(t *testing.T, c corev1.Container) {
	t.Helper()
	limit := c.Resources.Limits.Memory().Value()
	got, err := strconv.ParseInt(envOf(c)[envGoMemLimit], 10, 64)
	if err != nil || got != limit*9/10 && got != limit/10*9 {
		t.Errorf("container %s: GOMEMLIMIT = %q (%v), want 9/10 of its memory limit %d in bytes", c.Name, envOf(c)[envGoMemLimit], err, limit)
	}
}

// assertHardened checks what every pod of the operator promises.
func assertHardened(t *testing.T, p *corev1.PodSpec) {
	t.Helper()
	if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
		t.Errorf("the pod mounts a service-account token")
	}
	if sc := p.SecurityContext; sc == nil || !ptr.Deref(sc.RunAsNonRoot, false) || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context = %+v; want non-root with RuntimeDefault seccomp", sc)
	}
	for _, c := range p.Containers {
		sc := c.SecurityContext
		if sc == nil || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) || ptr.Deref(sc.AllowPrivilegeEscalation, true) ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container %s security context = %+v; want read-only root, no escalation, ALL dropped", c.Name, sc)
		}
		if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("container %s has no CPU or memory limit: %+v", c.Name, c.Resources)
		}
	}
}
