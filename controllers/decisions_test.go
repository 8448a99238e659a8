package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

func pod(phase corev1.PodPhase, ready bool, cs ...corev1.ContainerStatus) corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{
		Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}, ContainerStatuses: cs,
	}}
}

func waiting(reason string, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: "trader", RestartCount: restarts, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func TestTraderPhaseComesFromItsPod(t *testing.T) {
	running := corev1.ContainerStatus{Name: "trader", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	cases := []struct {
		name    string
		suspend bool
		pods    []corev1.Pod
		phase   v1alpha1.TraderPhase
		reason  string
	}{
		{"no pod yet", false, nil, v1alpha1.TraderPending, "PodNotCreated"},
		{"suspended wins", true, []corev1.Pod{pod(corev1.PodRunning, true, running)}, v1alpha1.TraderSuspended, "Suspended"},
		{"pulling the image", false, []corev1.Pod{pod(corev1.PodPending, false, waiting("ImagePullBackOff", 0))}, v1alpha1.TraderPending, "PodPending"},
		{"running and ready", false, []corev1.Pod{pod(corev1.PodRunning, true, running)}, v1alpha1.TraderRunning, "Running"},
		{"running, not ready yet", false, []corev1.Pod{pod(corev1.PodRunning, false)}, v1alpha1.TraderPending, "PodPending"},
		{"crash loop", false, []corev1.Pod{pod(corev1.PodRunning, false, waiting("CrashLoopBackOff", 4))}, v1alpha1.TraderCrashed, "CrashLoopBackOff"},
		{"restarting often", false, []corev1.Pod{pod(corev1.PodRunning, false, waiting("", 3))}, v1alpha1.TraderCrashed, "Restarting"},
		{"restarted once, running again", false, []corev1.Pod{pod(corev1.PodRunning, true, corev1.ContainerStatus{Ready: true, RestartCount: 1})}, v1alpha1.TraderRunning, "Running"},
		{"failed", false, []corev1.Pod{pod(corev1.PodFailed, false)}, v1alpha1.TraderCrashed, "PodFailed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			phase, reason, msg := podPhase(c.suspend, c.pods)
			if phase != c.phase || reason != c.reason || msg == "" {
				t.Errorf("podPhase = %s, %s, %q; want %s, %s", phase, reason, msg, c.phase, c.reason)
			}
		})
	}
}

func TestSuspendSendsOnlyTheCommandThatIsNeeded(t *testing.T) {
	cases := []struct {
		suspend bool
		phase   v1alpha1.MarketPhase
		running bool
		want    protocol.PhaseCommand
	}{
		{true, v1alpha1.MarketOpen, true, "pause"},
		{true, v1alpha1.MarketPaused, true, ""},
		{true, v1alpha1.MarketPending, true, ""},
		{true, v1alpha1.MarketClosed, true, ""},
		{false, v1alpha1.MarketPaused, true, "resume"},
		{false, v1alpha1.MarketOpen, true, ""},
		{false, v1alpha1.MarketPending, true, "open"},
		{false, v1alpha1.MarketPending, false, ""},
		{false, v1alpha1.MarketClosed, true, ""},
	}
	for _, c := range cases {
		if got := phaseCommand(c.suspend, c.phase, c.running); got != c.want {
			t.Errorf("phaseCommand(suspend=%t, %s, running=%t) = %q, want %q", c.suspend, c.phase, c.running, got, c.want)
		}
	}
}

func TestRankingFollowsTheRules(t *testing.T) {
	tr := func(n string) *v1alpha1.Trader {
		return &v1alpha1.Trader{ObjectMeta: metav1.ObjectMeta{Name: n}, Spec: v1alpha1.TraderSpec{Team: n}}
	}
	traders := []*v1alpha1.Trader{tr("late"), tr("early"), tr("rich"), tr("new"), tr("bailed")}
	b := &board{
		tick: &protocol.Tick{Price: 2 * rules.MicrosPerCoin},
		accounts: map[string]rules.Account{
			"late":   {Coins: rules.Coins(10), Fed: 5, ScoredAt: 20},
			"early":  {Coins: rules.Coins(10), Fed: 5, ScoredAt: 10},
			"rich":   {Coins: rules.Coins(8), Shares: 2, Fed: 5, ScoredAt: 30},
			"bailed": {Fed: 14, Bailouts: 1},
		},
		// The engine's scores: bailed fed 14 monkeys, less 10 for its bailout in a market
		// whose penalty is 10. The default penalty of 20 would give -6.
		scores: map[string]int64{"late": 5, "early": 5, "rich": 5, "bailed": 4},
	}
	got := rankTraders(traders, b)
	want := map[string]int32{"rich": 1, "early": 2, "late": 3, "bailed": 4, "new": 0}
	for i, t2 := range traders {
		if got[i].rank != want[t2.Name] {
			t.Errorf("%s ranked %d, want %d", t2.Name, got[i].rank, want[t2.Name])
		}
	}
	if got[4].score != 4 {
		t.Errorf("bailed scores %d, want the engine's score 14 - 10", got[4].score)
	}
}

func TestTraderResourcesAlwaysHaveLimits(t *testing.T) {
	got := withDefaultResources(&corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}, traderResources)
	if got.Limits.Memory().String() != "256Mi" || got.Limits.Cpu().String() != "200m" || got.Requests.Cpu().String() != "10m" {
		t.Errorf("resources = %+v; want the memory limit raised to the request and default CPU", got)
	}
}

func TestRedisAddressesGiveThePolicyItsPort(t *testing.T) {
	for in, want := range map[string]int32{"redis:6380": 6380, "redis://:pw@redis.monkonomy:7000/0": 7000, "redis.svc": 6379, "10.0.0.1:6379": 6379} {
		if _, got := splitRedisAddr(in); got != want {
			t.Errorf("splitRedisAddr(%q) port = %d, want %d", in, got, want)
		}
	}
}
