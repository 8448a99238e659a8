package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// MarketReconciler runs a Market's engine: its settings ConfigMap, its Redis password
// Secret, its Deployment and Service; it pauses and resumes the market through the
// engine's inbox, and on deletion removes the market's game data from Redis.
type MarketReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold (Secrets the operator did not create).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Redis     *RedisPool
	Clock     clock.PassiveClock
	// Image runs engines whose Market names none.
	Image string
}

// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=markets,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=traders,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=markets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=markets/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings a Market's engine in line with its spec.
func (r *MarketReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	var m v1alpha1.Market
	if err := r.Get(ctx, req.NamespacedName, &m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !m.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, &m)
	}
	if !controllerutil.ContainsFinalizer(&m, finalizer) {
		patch := client.MergeFrom(m.DeepCopy())
		controllerutil.AddFinalizer(&m, finalizer)
		if err := r.Patch(ctx, &m, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add the finalizer of market %s: %w", m.Name, err)
		}
	}

	base := m.DeepCopy()
	var engine *appsv1.Deployment
	defer func() {
		r.setConditions(&m, engine, err)
		if err == nil {
			m.Status.ObservedGeneration = m.Generation
		}
		if perr := patchStatus(ctx, r.Client, "market", &m, base, base.Status, m.Status); perr != nil {
			err = errors.Join(err, perr)
		}
	}()

	password, err := r.reconcileRedisSecret(ctx, &m)
	if err != nil {
		return ctrl.Result{}, err
	}
	hash, err := r.reconcileConfig(ctx, &m)
	if err != nil {
		return ctrl.Result{}, err
	}
	if engine, err = r.reconcileEngine(ctx, &m, hash, password); err != nil {
		return ctrl.Result{}, err
	}
	svc, err := r.reconcileService(ctx, &m)
	if err != nil {
		return ctrl.Result{}, err
	}
	m.Status.DashboardURL = dashboardURL(&m, svc)
	return r.reconcileSuspend(ctx, &m, engine)
}

// reconcileDelete deletes the market's Traders and its engine, waits until the Traders'
// own finalizers are done and the engine's pods are gone, then removes the market's keys
// and any trader users left from Redis and lets the Market go. Deleting the Traders first
// (rather than leaving them to the garbage collector) keeps a Trader from registering
// again in a market that is being cleaned; stopping the engine first keeps it from taking
// its lease again and writing the market's state back. Kubernetes garbage-collects the
// engine's other objects through their owner references.
func (r *MarketReconciler) reconcileDelete(ctx context.Context, m *v1alpha1.Market) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(m, finalizer) {
		return ctrl.Result{}, nil
	}
	var traders v1alpha1.TraderList
	if err := r.List(ctx, &traders, client.InNamespace(m.Namespace), client.MatchingFields{traderMarketIndex: m.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("list the traders of market %s: %w", m.Name, err)
	}
	for i := range traders.Items {
		t := &traders.Items[i]
		if t.DeletionTimestamp.IsZero() {
			if err := r.Delete(ctx, t); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("delete trader %s of market %s: %w", t.Name, m.Name, err)
			}
		}
	}
	engineStopped, err := r.stopEngine(ctx, m)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(traders.Items) > 0 || !engineStopped {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	c, _, err := r.Redis.clientFor(ctx, r.APIReader, m)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := deleteMarketData(ctx, c, marketOf(m)); err != nil {
		r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, "CleanupFailed", "Delete", "Could not delete the market's data from Redis: %v", err)
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).Info("Deleted market data from Redis", "market", marketOf(m).String())
	patch := client.MergeFrom(m.DeepCopy())
	controllerutil.RemoveFinalizer(m, finalizer)
	if err := r.Patch(ctx, m, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove the finalizer of market %s: %w", m.Name, err)
	}
	return ctrl.Result{}, nil
}

// stopEngine deletes the engine Deployment and reports whether the engine's pods are all
// gone, terminating ones included: until then an engine may still write to Redis.
func (r *MarketReconciler) stopEngine(ctx context.Context, m *v1alpha1.Market) (bool, error) {
	var d appsv1.Deployment
	err := r.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: engineName(m)}, &d)
	switch {
	case err == nil && d.DeletionTimestamp.IsZero():
		err = r.Delete(ctx, &d, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("delete the engine of market %s: %w", m.Name, err)
		}
	case err != nil && !apierrors.IsNotFound(err):
		return false, fmt.Errorf("read the engine of market %s: %w", m.Name, err)
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(m.Namespace), client.MatchingLabels(engineSelector(m))); err != nil {
		return false, fmt.Errorf("list the engine pods of market %s: %w", m.Name, err)
	}
	return len(pods.Items) == 0, nil
}

// setConditions records EngineAvailable from the engine Deployment and Ready from it and
// from the reconcile's error.
func (r *MarketReconciler) setConditions(m *v1alpha1.Market, engine *appsv1.Deployment, err error) {
	now := metav1.NewTime(r.Clock.Now())
	avail := engineAvailable(engine)
	avail.Type, avail.ObservedGeneration, avail.LastTransitionTime = v1alpha1.MarketEngineAvailable, m.Generation, now
	meta.SetStatusCondition(&m.Status.Conditions, avail)

	ready := metav1.Condition{Type: v1alpha1.MarketReady, ObservedGeneration: m.Generation, LastTransitionTime: now}
	switch {
	case err != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reasonOf(err), err.Error()
	case avail.Status == metav1.ConditionTrue:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, "EngineRunning", "The engine runs with the current spec."
	default:
		ready.Status, ready.Reason, ready.Message = avail.Status, avail.Reason, avail.Message
	}
	meta.SetStatusCondition(&m.Status.Conditions, ready)
}

// engineAvailable reads the availability of the engine Deployment.
func engineAvailable(d *appsv1.Deployment) metav1.Condition {
	if d == nil {
		return metav1.Condition{Status: metav1.ConditionUnknown, Reason: "EngineNotCreated", Message: "The engine Deployment does not exist yet."}
	}
	for _, c := range d.Status.Conditions {
		if c.Type != appsv1.DeploymentAvailable {
			continue
		}
		switch c.Status {
		case corev1.ConditionTrue:
			return metav1.Condition{Status: metav1.ConditionTrue, Reason: "EngineAvailable", Message: "The engine pod is ready."}
		case corev1.ConditionFalse:
			return metav1.Condition{Status: metav1.ConditionFalse, Reason: "EngineUnavailable", Message: "The engine pod is not ready: " + c.Message}
		}
	}
	return metav1.Condition{Status: metav1.ConditionUnknown, Reason: "EngineStarting", Message: "The engine Deployment has not reported its availability yet."}
}

// reasonError gives an error the Reason of the condition it sets.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func withReason(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &reasonError{reason: reason, err: err}
}

func reasonOf(err error) string {
	var re *reasonError
	if errors.As(err, &re) {
		return re.reason
	}
	return "ReconcileFailed"
}

// marketPredicate lets through what the reconciler acts on: spec changes, deletion, a
// finalizer added or taken away, and the phase the scoreboard records (for pausing and
// resuming). The scoreboard's tick and price updates every second are left out.
var marketPredicate = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.Market)
		n, ok2 := e.ObjectNew.(*v1alpha1.Market)
		if !ok1 || !ok2 {
			return true
		}
		return o.Generation != n.Generation || !n.DeletionTimestamp.IsZero() ||
			o.Status.Phase != n.Status.Phase || len(o.Finalizers) != len(n.Finalizers)
	},
}

// SetupWithManager registers the reconciler.
func (r *MarketReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Market{}, builder.WithPredicates(marketPredicate)).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Named("market").
		Complete(r)
}
