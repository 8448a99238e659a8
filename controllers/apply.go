package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// annotationApplied holds the hash of the desired state an object was last written from.
// Comparing hashes, rather than objects, keeps the API server's defaults (which the
// desired object does not spell out) from looking like a change, so an unchanged object
// costs no write.
const annotationApplied = "game.monkonomy.dev/applied"

// applyResult says what applyOwned did.
type applyResult string

const (
	applyUnchanged applyResult = ""
	applyCreated   applyResult = "Created"
	applyUpdated   applyResult = "Updated"
)

// applyOwned creates desired, owned by owner, or replaces the stored object when it was
// written from a different desired state, and returns the object as stored. keep copies
// what the API server allocated (a Service's cluster IP) from the stored object into
// desired before an update.
func applyOwned[T client.Object](ctx context.Context, c client.Client, scheme *runtime.Scheme, owner client.Object, desired T, keep func(stored, desired T)) (T, applyResult, error) {
	if err := controllerutil.SetControllerReference(owner, desired, scheme); err != nil {
		return desired, applyUnchanged, err
	}
	b, err := json.Marshal(desired)
	if err != nil {
		return desired, applyUnchanged, err
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:8])
	ann := desired.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[annotationApplied] = hash
	desired.SetAnnotations(ann)

	stored, ok := desired.DeepCopyObject().(T)
	if !ok {
		return desired, applyUnchanged, fmt.Errorf("a copy of %T is not a %T", desired, desired)
	}
	err = c.Get(ctx, client.ObjectKeyFromObject(desired), stored)
	switch {
	case apierrors.IsNotFound(err):
		// Create and Update fill desired with the object as the API server stored it.
		if err := c.Create(ctx, desired); err != nil {
			return desired, applyUnchanged, err
		}
		return desired, applyCreated, nil
	case err != nil:
		return desired, applyUnchanged, err
	}
	if stored.GetAnnotations()[annotationApplied] == hash && stored.GetDeletionTimestamp().IsZero() {
		return stored, applyUnchanged, nil
	}
	desired.SetResourceVersion(stored.GetResourceVersion())
	if keep != nil {
		keep(stored, desired)
	}
	if err := c.Update(ctx, desired); err != nil {
		return desired, applyUnchanged, err
	}
	return desired, applyUpdated, nil
}

// kindOf names the kind of obj for events and logs.
func kindOf(obj client.Object, scheme *runtime.Scheme) string {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// applyAndRecord applies an owned object, logs what it created or changed and, unless
// rec is nil, tells the user in an event on the owner. It returns the object as stored.
func applyAndRecord[T client.Object](ctx context.Context, c client.Client, scheme *runtime.Scheme, rec events.EventRecorder, owner client.Object, obj T, keep func(stored, desired T)) (T, applyResult, error) {
	kind := kindOf(obj, scheme)
	stored, res, err := applyOwned(ctx, c, scheme, owner, obj, keep)
	if err != nil {
		return stored, res, withReason(kind+"Failed", fmt.Errorf("write %s %s of %s %s: %w", kind, obj.GetName(),
			strings.ToLower(kindOf(owner, scheme)), owner.GetName(), err))
	}
	if res != applyUnchanged {
		log.FromContext(ctx).Info(string(res)+" "+kind, strings.ToLower(kind), obj.GetName())
		if rec != nil {
			rec.Eventf(owner, nil, corev1.EventTypeNormal, string(res)+kind, string(res), "%s %s %s", res, kind, obj.GetName())
		}
	}
	return stored, res, nil
}

// patchStatus writes obj's status when it differs from base's, the object as it was read;
// both reconcilers call it from their one deferred status update.
func patchStatus(ctx context.Context, c client.Client, kind string, obj, base client.Object, oldStatus, newStatus any) error {
	if equality.Semantic.DeepEqual(oldStatus, newStatus) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("update the status of %s %s: %w", kind, obj.GetName(), err)
	}
	return nil
}
