package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// traderMarketIndex indexes Traders by spec.market, so that a Market's change finds its
// Traders without listing them all.
const traderMarketIndex = "spec.market"

// TraderReconciler gives a Trader its Redis user and password, registers it in its
// market, and runs its pod.
type TraderReconciler struct {
	client.Client
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Redis     *RedisPool
	Clock     clock.PassiveClock
	// Image runs strategy traders of Markets that name no engine image.
	Image string
	// Heal receives Traders whose Redis user or registration went missing (see Healer).
	Heal <-chan event.TypedGenericEvent[*v1alpha1.Trader]
	// Workers is how many Traders are reconciled at once.
	Workers int
}

// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=traders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=traders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=game.monkonomy.dev,resources=traders/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// traderState is what a reconcile learnt, for the status.
type traderState struct {
	marketFound bool
	pods        []corev1.Pod
}

// Reconcile brings a Trader's Redis user, registration and pod in line with its spec.
func (r *TraderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	var t v1alpha1.Trader
	if err := r.Get(ctx, req.NamespacedName, &t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var m v1alpha1.Market
	mErr := r.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Spec.Market}, &m)
	if mErr != nil && !apierrors.IsNotFound(mErr) {
		return ctrl.Result{}, mErr
	}
	market := &m
	if mErr != nil {
		market = nil
	}
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, &t, market)
	}
	if market != nil && !market.DeletionTimestamp.IsZero() {
		// A Market on its way out deletes its Traders; registering again would race its
		// cleanup of Redis.
		market = nil
	}
	if err := r.ensureMetadata(ctx, &t, market); err != nil {
		return ctrl.Result{}, err
	}

	base := t.DeepCopy()
	st := traderState{marketFound: market != nil}
	defer func() {
		r.setStatus(&t, st, err)
		if err == nil {
			t.Status.ObservedGeneration = t.Generation
		}
		if perr := patchStatus(ctx, r.Client, "trader", &t, base, base.Status, t.Status); perr != nil {
			err = errors.Join(err, perr)
		}
	}()
	if market == nil {
		// The Market's creation requeues this Trader (see SetupWithManager).
		return ctrl.Result{}, nil
	}

	password, cacheBehind, err := r.reconcileSecret(ctx, &t, market)
	if err != nil {
		return ctrl.Result{}, err
	}
	if cacheBehind {
		// Once the cache holds the Secret, the next reconcile checks it against the spec.
		res.RequeueAfter = time.Second
	}
	if err := r.reconcileRedis(ctx, &t, market, password); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileScript(ctx, &t); err != nil {
		return ctrl.Result{}, err
	}
	// The policy first: the pod never runs without it.
	if err := r.reconcileNetworkPolicy(ctx, &t, market); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileDeployment(ctx, &t, market); err != nil {
		return ctrl.Result{}, err
	}
	st.pods, err = r.pods(ctx, &t)
	return res, err
}

// ensureMetadata adds the finalizer and makes the Market an owner of the Trader. One patch
// does both. A Market's deletion deletes its Traders itself (see
// MarketReconciler.reconcileDelete); the owner reference shows where a Trader belongs, and
// lets the garbage collector delete the Traders of a Market that went without its
// finalizer.
func (r *TraderReconciler) ensureMetadata(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market) error {
	patch := client.MergeFrom(t.DeepCopy())
	changed := controllerutil.AddFinalizer(t, finalizer)
	if m != nil && !hasOwner(t, m) {
		if err := controllerutil.SetOwnerReference(m, t, r.Scheme); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return nil
	}
	if err := r.Patch(ctx, t, patch); err != nil {
		return fmt.Errorf("add the finalizer and owner of trader %s: %w", t.Name, err)
	}
	return nil
}

func hasOwner(obj metav1.Object, owner metav1.Object) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// reconcileDelete removes the trader's Redis user and registration, then lets the Trader
// go; its account stays in the market's history. Without its Market the Redis of the
// operator is cleaned, where Markets without spec.redis live; the Market's own deletion
// removed everything else.
func (r *TraderReconciler) reconcileDelete(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market) error {
	if !controllerutil.ContainsFinalizer(t, finalizer) {
		return nil
	}
	target := r.Redis.Default
	if m != nil {
		var err error
		if target, err = r.Redis.targetOf(ctx, r.APIReader, m); err != nil {
			return err
		}
	}
	c, err := r.Redis.Client(target)
	if err != nil {
		return err
	}
	pm := traderMarket(t)
	if err := deleteUsers(ctx, c, traderUser(pm, t.Name)); err != nil {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "CleanupFailed", "Delete", "Could not delete the trader's Redis user: %v", err)
		return err
	}
	if err := unregisterTrader(ctx, c, pm, t.Name); err != nil {
		return err
	}
	log.FromContext(ctx).Info("Deleted Redis user and registration", "trader", t.Name, "market", pm.String())
	patch := client.MergeFrom(t.DeepCopy())
	controllerutil.RemoveFinalizer(t, finalizer)
	if err := r.Patch(ctx, t, patch); err != nil {
		return fmt.Errorf("remove the finalizer of trader %s: %w", t.Name, err)
	}
	return nil
}

// reconcileRedis creates the trader's ACL user and registers it in the market. Both are
// idempotent; the Healer brings the Trader back here when Redis lost them.
func (r *TraderReconciler) reconcileRedis(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market, password string) error {
	c, _, err := r.Redis.clientFor(ctx, r.APIReader, m)
	if err != nil {
		return withReason("RedisUnavailable", err)
	}
	pm := traderMarket(t)
	if err := setTraderUser(ctx, c, pm, t.Name, password); err != nil {
		return withReason("RedisUnavailable", err)
	}
	if err := registerTrader(ctx, c, pm, t.Name, t.Spec.Team); err != nil {
		return withReason("RedisUnavailable", err)
	}
	return nil
}

// pods lists the trader's pods from the cache.
func (r *TraderReconciler) pods(ctx context.Context, t *v1alpha1.Trader) ([]corev1.Pod, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(t.Namespace), client.MatchingLabels(traderSelector(t))); err != nil {
		return nil, fmt.Errorf("list the pods of trader %s: %w", t.Name, err)
	}
	return pods.Items, nil
}

// traderPredicate lets through spec changes, deletion, and a finalizer or owner taken away
// (to put it back). The scoreboard's writes are left out (rankedHandler looks at those),
// and so are the reconciler's own writes: a reconcile they started would read the Trader
// from a cache that has not seen its status yet, and write the same status again.
var traderPredicate = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.Trader)
		n, ok2 := e.ObjectNew.(*v1alpha1.Trader)
		if !ok1 || !ok2 {
			return true
		}
		return o.Generation != n.Generation || !n.DeletionTimestamp.IsZero() ||
			len(n.Finalizers) < len(o.Finalizers) || len(n.OwnerReferences) < len(o.OwnerReferences)
	},
}

// rankedHandler reconciles a Trader whose Scored condition disagrees with its rank. The
// scoreboard writes the condition with the first rank, unless the Trader changed since
// the scoreboard read it; and a status write of the reconciler, from a cache that had not
// seen the rank yet, may put the old condition back. The reconcile queues behind the
// Traders still to be registered: in a room filling up, their registration is what keeps
// their rank waiting, not the condition.
var rankedHandler = handler.TypedFuncs[client.Object, reconcile.Request]{
	UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		t, ok := e.ObjectNew.(*v1alpha1.Trader)
		if !ok || (t.Status.Rank > 0) == meta.IsStatusConditionTrue(t.Status.Conditions, v1alpha1.TraderScored) {
			return
		}
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(t)}
		if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, req)
			return
		}
		q.Add(req)
	},
}

// ownedPredicate leaves out the creation of a Trader's objects: the reconciler made them
// itself, and the Trader's own creation event reconciles it when the manager starts.
// Changes and deletions by others bring the Trader back.
var ownedPredicate = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
}

// SetupWithManager registers the reconciler and the index it needs.
func (r *TraderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Trader{}, traderMarketIndex, func(o client.Object) []string {
		return []string{o.(*v1alpha1.Trader).Spec.Market}
	})
	if err != nil {
		return fmt.Errorf("index traders by market: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Trader{}, builder.WithPredicates(traderPredicate)).
		Owns(&appsv1.Deployment{}, builder.WithPredicates(ownedPredicate)).
		Owns(&corev1.Secret{}, builder.WithPredicates(ownedPredicate)).
		Owns(&corev1.ConfigMap{}, builder.WithPredicates(ownedPredicate)).
		Owns(&networkingv1.NetworkPolicy{}, builder.WithPredicates(ownedPredicate)).
		Watches(&v1alpha1.Trader{}, rankedHandler).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToTrader)).
		Watches(&v1alpha1.Market{}, handler.EnqueueRequestsFromMapFunc(r.marketToTraders),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("trader").
		// Reconciles wait on the API server and Redis, not the CPU: several at once keep
		// a room of 500 Traders from queueing behind each other.
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)})
	if r.Heal != nil {
		b = b.WatchesRawSource(source.Channel(r.Heal, &handler.TypedEnqueueRequestForObject[*v1alpha1.Trader]{}))
	}
	return b.Complete(r)
}

func podToTrader(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := o.GetLabels()[LabelTrader]
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

func (r *TraderReconciler) marketToTraders(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.TraderList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{traderMarketIndex: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "List traders of market", "market", o.GetName())
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, t := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
	}
	return out
}
