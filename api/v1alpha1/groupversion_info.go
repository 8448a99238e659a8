// Package v1alpha1 is the Kubernetes API of Monkonomy: the Market and Trader resources of
// group game.monkonomy.dev. It holds only types and markers; the operator in controllers/
// gives them life.
//
// +kubebuilder:object:generate=true
// +groupName=game.monkonomy.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the Market and Trader resources.
	GroupVersion = schema.GroupVersion{Group: "game.monkonomy.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
