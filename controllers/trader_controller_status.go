package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// crashRestarts is how many restarts make a pod that is not running count as crashed,
// even before the kubelet reports CrashLoopBackOff.
const crashRestarts = 3

// podPhase says what a trader's pods are doing: the phase, and the reason and message of
// the Ready condition.
func podPhase(suspend bool, pods []corev1.Pod) (v1alpha1.TraderPhase, string, string) {
	if suspend {
		return v1alpha1.TraderSuspended, "Suspended", "spec.suspend stopped the trader's pod."
	}
	var pending string
	for i := range pods {
		p := &pods[i]
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		if p.Status.Phase == corev1.PodFailed {
			return v1alpha1.TraderCrashed, "PodFailed", fmt.Sprintf("Pod %s failed: %s", p.Name, p.Status.Message)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				return v1alpha1.TraderCrashed, "CrashLoopBackOff", fmt.Sprintf("Container %s of pod %s keeps crashing (%d restarts): see kubectl logs %s --previous", cs.Name, p.Name, cs.RestartCount, p.Name)
			}
			if cs.RestartCount >= crashRestarts && !cs.Ready {
				return v1alpha1.TraderCrashed, "Restarting", fmt.Sprintf("Container %s of pod %s restarted %d times: see kubectl logs %s --previous", cs.Name, p.Name, cs.RestartCount, p.Name)
			}
		}
		if p.Status.Phase == corev1.PodRunning && podReady(p) {
			return v1alpha1.TraderRunning, "Running", fmt.Sprintf("Pod %s is running.", p.Name)
		}
		pending = fmt.Sprintf("Pod %s is %s", p.Name, p.Status.Phase)
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				pending += ": " + w.Reason
				if w.Message != "" {
					pending += " (" + w.Message + ")"
				}
			}
		}
	}
	if pending == "" {
		return v1alpha1.TraderPending, "PodNotCreated", "The trader's pod does not exist yet."
	}
	return v1alpha1.TraderPending, "PodPending", pending + "."
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// setStatus computes the phase and conditions of a trader from what the reconcile
// learnt. The rank and holdings belong to the scoreboard and are not touched.
func (r *TraderReconciler) setStatus(t *v1alpha1.Trader, st traderState, err error) {
	now := metav1.NewTime(r.Clock.Now())
	phase, reason, msg := podPhase(t.Spec.Suspend, st.pods)
	ready := metav1.Condition{Type: v1alpha1.TraderReady, ObservedGeneration: t.Generation, LastTransitionTime: now}
	switch {
	case !st.marketFound:
		phase = v1alpha1.TraderPending
		ready.Status, ready.Reason = metav1.ConditionFalse, "MarketNotFound"
		ready.Message = fmt.Sprintf("Market %s does not exist in namespace %s (or is being deleted): create it, or fix spec.market.", t.Spec.Market, t.Namespace)
	case err != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reasonOf(err), err.Error()
	case phase == v1alpha1.TraderRunning:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, reason, msg
	default:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reason, msg
	}
	if err == nil || t.Status.Phase == "" {
		t.Status.Phase = phase
	}
	meta.SetStatusCondition(&t.Status.Conditions, ready)
	meta.SetStatusCondition(&t.Status.Conditions, scoredCondition(t.Generation, t.Status.Rank, now))
}

// scoredCondition is True once the scoreboard has given the trader a rank.
func scoredCondition(generation int64, rank int32, now metav1.Time) metav1.Condition {
	c := metav1.Condition{Type: v1alpha1.TraderScored, ObservedGeneration: generation, LastTransitionTime: now}
	if rank > 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Ranked", "The market has ranked this trader: see status.rank."
	} else {
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, "NotRankedYet", "The market has not ranked this trader yet: it needs an account, which the engine opens once the trader is registered."
	}
	return c
}
