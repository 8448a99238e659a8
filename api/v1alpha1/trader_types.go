package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TraderPhase is what a Trader's pod is doing.
// +kubebuilder:validation:Enum=Pending;Running;Crashed;Suspended
type TraderPhase string

const (
	// TraderPending: the pod is not running yet (scheduling, pulling the image, waiting
	// for its Market).
	TraderPending TraderPhase = "Pending"
	// TraderRunning: the pod runs and is ready.
	TraderRunning TraderPhase = "Running"
	// TraderCrashed: the pod keeps crashing; `kubectl logs` tells why.
	TraderCrashed TraderPhase = "Crashed"
	// TraderSuspended: spec.suspend stopped the pod.
	TraderSuspended TraderPhase = "Suspended"
)

// Condition types of a Trader.
const (
	// TraderReady is True when the trader is registered in its market and its pod runs.
	TraderReady = "Ready"
	// TraderScored is True once the market has ranked the trader.
	TraderScored = "Scored"
)

// TraderSpec is a team's bot: which market it plays, for which team, and what runs it.
// +kubebuilder:validation:XValidation:rule="has(self.image) != has(self.strategy)",message="set exactly one of spec.image (your own container) or spec.strategy (a built-in strategy or a script)"
type TraderSpec struct {
	// Market is the name of the Market, in the same namespace, this trader plays in. It
	// cannot change: a trader's account belongs to one market.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=50
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.market cannot change: delete the Trader and create one in the other market"
	Market string `json:"market"`

	// Team is the display name of the team on the leaderboard.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.trim().size() > 0",message="spec.team must name your team (1-63 characters)"
	Team string `json:"team"`

	// Image runs the team's own container.
	// +optional
	Image *ImageSpec `json:"image,omitempty"`

	// Strategy runs `monkonomy trader` with a built-in strategy or a Starlark script.
	// +optional
	Strategy *StrategySpec `json:"strategy,omitempty"`

	// Resources of the trader container. Empty fields take modest defaults (requests
	// 10m CPU and 32Mi memory, limits 200m CPU and 128Mi memory), so that no bot can
	// starve the others.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Suspend stops the trader's pod; its account stays in the market.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ImageSpec is a team's container. It gets the market's connection in environment
// variables (MONKONOMY_REDIS_ADDR, MONKONOMY_REDIS_USERNAME, MONKONOMY_REDIS_PASSWORD,
// MONKONOMY_MARKET, MONKONOMY_TRADER, MONKONOMY_KEY_PREFIX).
type ImageSpec struct {
	// Name is the image reference, e.g. ghcr.io/team/bot:1.0.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Name string `json:"name"`
	// PullPolicy of the image.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`
	// Command replaces the image's entrypoint.
	// +optional
	Command []string `json:"command,omitempty"`
	// Args are the arguments of the command.
	// +optional
	Args []string `json:"args,omitempty"`
	// Env adds environment variables; the MONKONOMY_ ones are set by the operator.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(e, !e.name.startsWith('MONKONOMY_'))",message="spec.image.env cannot set MONKONOMY_ variables: the operator sets them"
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
}

// StrategySpec runs the trader runtime of the monkonomy image.
// +kubebuilder:validation:XValidation:rule="(has(self.builtin) ? 1 : 0) + (has(self.script) ? 1 : 0) + (has(self.scriptFrom) ? 1 : 0) == 1",message="set exactly one of spec.strategy.builtin, spec.strategy.script or spec.strategy.scriptFrom"
type StrategySpec struct {
	// Builtin is one of the strategies shipped with monkonomy.
	// +optional
	Builtin *BuiltinStrategy `json:"builtin,omitempty"`
	// Script is a Starlark trader, at most 64 KiB: it travels in the object and in a
	// ConfigMap, both of which etcd stores.
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:XValidation:rule="self.size() > 0",message="spec.strategy.script is empty: write a Starlark trader or use builtin"
	// +optional
	Script *string `json:"script,omitempty"`
	// ScriptFrom takes the Starlark script from a key of a ConfigMap in the Trader's
	// namespace.
	// +optional
	ScriptFrom *corev1.ConfigMapKeySelector `json:"scriptFrom,omitempty"`
}

// BuiltinStrategy names a built-in strategy and its parameters.
type BuiltinStrategy struct {
	// Name of the strategy, as `monkonomy trader --help` lists them.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z][-a-z0-9]*$`
	Name string `json:"name"`
	// Params are passed as --param key=value.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Params map[string]string `json:"params,omitempty"`
}

// OrderCounts counts a trader's orders by outcome.
type OrderCounts struct {
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
}

// TraderStatus is the trader's pod and its standing in the market. Amounts are decimal
// strings.
type TraderStatus struct {
	// +optional
	Phase TraderPhase `json:"phase,omitempty"`
	// Rank in the market, from 1; 0 until the market has ranked the trader.
	// +optional
	Rank int32 `json:"rank,omitempty"`
	// Score is monkeys fed minus the bailout penalty.
	// +optional
	Score int64 `json:"score"`
	// +optional
	MonkeysFed int64 `json:"monkeysFed"`
	// Coins, a decimal string.
	// +optional
	Coins string `json:"coins,omitempty"`
	// +optional
	Shares int64 `json:"shares"`
	// +optional
	Bailouts int64 `json:"bailouts"`
	// InFlight is the number of plantations not yet harvested.
	// +optional
	InFlight int64 `json:"inFlight"`
	// NetWorth is coins plus shares at the last price, a decimal string.
	// +optional
	NetWorth string `json:"netWorth,omitempty"`
	// +optional
	Orders OrderCounts `json:"orders"`
	// LastOrderAt is when the operator last saw the trader's order count change (within
	// a second of the order).
	// +optional
	LastOrderAt *metav1.Time `json:"lastOrderAt,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Trader is one team's bot in one Market. `kubectl get traders` is the leaderboard.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=trd,categories=monkonomy
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 56",message="a Trader's name must be 1-56 lower-case letters, digits and '-', starting and ending with a letter or digit"
// +kubebuilder:printcolumn:name="Rank",type=integer,JSONPath=`.status.rank`
// +kubebuilder:printcolumn:name="Team",type=string,JSONPath=`.spec.team`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.status.score`
// +kubebuilder:printcolumn:name="Monkeys",type=integer,JSONPath=`.status.monkeysFed`
// +kubebuilder:printcolumn:name="Coins",type=string,JSONPath=`.status.coins`
// +kubebuilder:printcolumn:name="Shares",type=integer,JSONPath=`.status.shares`
// +kubebuilder:printcolumn:name="Bailouts",type=integer,JSONPath=`.status.bailouts`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="In-Flight",type=integer,JSONPath=`.status.inFlight`,priority=1
// +kubebuilder:printcolumn:name="Net-Worth",type=string,JSONPath=`.status.netWorth`,priority=1
// +kubebuilder:printcolumn:name="Accepted",type=integer,JSONPath=`.status.orders.accepted`,priority=1
// +kubebuilder:printcolumn:name="Rejected",type=integer,JSONPath=`.status.orders.rejected`,priority=1
// +kubebuilder:printcolumn:name="Market",type=string,JSONPath=`.spec.market`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Trader struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TraderSpec   `json:"spec"`
	Status TraderStatus `json:"status,omitempty"`
}

// TraderList is a list of Traders.
// +kubebuilder:object:root=true
type TraderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Trader `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Trader{}, &TraderList{})
}
