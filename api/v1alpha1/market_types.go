package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MarketPhase is where a Market's clock stands, as the engine last published it.
// +kubebuilder:validation:Enum=Pending;Open;Paused;Closed
type MarketPhase string

const (
	// MarketPending: no tick yet, orders are rejected market_closed.
	MarketPending MarketPhase = "Pending"
	// MarketOpen: ticks are published and orders applied.
	MarketOpen MarketPhase = "Open"
	// MarketPaused: no ticks, orders are rejected market_paused.
	MarketPaused MarketPhase = "Paused"
	// MarketClosed: the duration has passed; the final ranking is frozen.
	MarketClosed MarketPhase = "Closed"
)

// Condition types and reasons of a Market.
const (
	// MarketReady is True when the engine runs with the current spec.
	MarketReady = "Ready"
	// MarketEngineAvailable mirrors the engine Deployment's availability.
	MarketEngineAvailable = "EngineAvailable"
)

// MarketSpec is how an organiser sets up a market. Every number defaults to the rules of
// the game; amounts of coins and prices are decimal strings with at most 6 decimals.
// +kubebuilder:validation:XValidation:rule="!has(self.redis) || !has(self.redis.secretRef) || has(self.redis.address)",message="spec.redis.secretRef needs spec.redis.address: the password belongs to the Redis at that address"
type MarketSpec struct {
	// TickInterval is the time between two ticks. Durations are Go durations ("1s",
	// "500ms", "90m"); the pattern keeps a typo from reaching CEL's duration(), so that the
	// user reads the rule's message rather than an evaluation error.
	// +kubebuilder:default="1s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10ms')",message="tickInterval must be a positive duration of at least 10ms, such as 1s or 500ms"
	// +optional
	TickInterval *metav1.Duration `json:"tickInterval,omitempty"`

	// Duration closes the market once it has been open this long (paused time does not
	// count). Empty: the market stays open until the Market is deleted.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="duration must be a positive duration such as 90m or 1h30m"
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`

	// Seed makes the price path reproducible: the same seed gives the same base prices.
	// Empty: a seed derived from the market's name.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Seed *int64 `json:"seed,omitempty"`

	// Suspend pauses an open market (or keeps a new one pending) until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Price PriceSpec `json:"price,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Hype HypeSpec `json:"hype,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Rules RulesSpec `json:"rules,omitempty"`

	// Redis is the server that holds this market. Empty: the operator's Redis.
	// +optional
	Redis *RedisSpec `json:"redis,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Engine EngineSpec `json:"engine,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Dashboard DashboardSpec `json:"dashboard,omitempty"`
}

// PriceSpec is the banana price process.
type PriceSpec struct {
	// Initial is base(0), in coins per share.
	// +kubebuilder:default="1"
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	// +kubebuilder:validation:XValidation:rule="self.matches('[1-9]')",message="price.initial must be above zero, such as \"1\" or \"0.5\""
	// +optional
	Initial string `json:"initial,omitempty"`
	// Drift is the mean of ln m(n).
	// +kubebuilder:default="0.0001"
	// +kubebuilder:validation:Pattern=`^-?[0-9]+(\.[0-9]{1,6})?$`
	// +optional
	Drift string `json:"drift,omitempty"`
	// Volatility is the standard deviation of ln m(n).
	// +kubebuilder:default="0.01"
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	// +optional
	Volatility string `json:"volatility,omitempty"`
}

// HypeSpec is how gibbs move the price.
type HypeSpec struct {
	// Hashtag is the word worth 100 points.
	// +kubebuilder:default="mktd"
	// +kubebuilder:validation:Pattern=`^[a-z]{1,32}$`
	// +optional
	Hashtag string `json:"hashtag,omitempty"`
	// Positive words score +1. Empty: the list of the rules.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:Pattern=`^[a-z]{1,32}$`
	// +optional
	Positive []string `json:"positive,omitempty"`
	// Negative words score −1. Empty: the list of the rules.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:Pattern=`^[a-z]{1,32}$`
	// +optional
	Negative []string `json:"negative,omitempty"`
	// BurstStepTicks is the number of ticks between two steps of a burst.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	BurstStepTicks int32 `json:"burstStepTicks,omitempty"`
}

// RulesSpec holds the numbers of accounts, bailouts and fair play.
type RulesSpec struct {
	// InitialCoins every trader starts with.
	// +kubebuilder:default="10"
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	// +optional
	InitialCoins string `json:"initialCoins,omitempty"`
	// InitialShares every trader starts with. Zero is not a game of the rules.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +optional
	InitialShares *int64 `json:"initialShares,omitempty"`
	// BailoutPenalty is subtracted from the score for every bailout.
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +optional
	BailoutPenalty *int64 `json:"bailoutPenalty,omitempty"`
	// +kubebuilder:default={}
	// +optional
	Bailout BailoutSpec `json:"bailout,omitempty"`
	// MaxOrdersPerTick is the fair-play limit; a burst of twice this is allowed.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxOrdersPerTick int32 `json:"maxOrdersPerTick,omitempty"`
	// MaxGibbsPerTick is how many gibbs one author may post per tick.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxGibbsPerTick int32 `json:"maxGibbsPerTick,omitempty"`
}

// BailoutSpec is what a bailout adds to an account.
type BailoutSpec struct {
	// +kubebuilder:default="10"
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	// +optional
	Coins string `json:"coins,omitempty"`
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +optional
	Shares *int64 `json:"shares,omitempty"`
}

// RedisSpec names a Redis server other than the operator's.
type RedisSpec struct {
	// Address is host:port, or a redis:// URL without password.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Address string `json:"address,omitempty"`
	// SecretRef names the key of a Secret, in the Market's namespace, that holds the
	// admin password of that server. The operator creates trader users with it.
	// +optional
	SecretRef *corev1.SecretKeySelector `json:"secretRef,omitempty"`
}

// EngineSpec is the market's engine pod.
type EngineSpec struct {
	// Image runs the engine. Empty: the operator's own image.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`
	// Resources of the engine container. Empty: modest requests and limits.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// NodeSelector runs the engine on nodes with these labels. With Tolerations of a taint
	// on those nodes, it keeps the engine (and Redis, placed the same way) apart from the
	// traders' pods, whose CPU would otherwise slow the market's answers.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations let the engine run on tainted nodes, such as a node tainted for the
	// market alone.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// DashboardSpec is the market's web dashboard, served by the engine.
type DashboardSpec struct {
	// Enabled publishes the dashboard URL in the status.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// ServiceType of the engine's Service, e.g. LoadBalancer for a big screen.
	// +kubebuilder:default=ClusterIP
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +optional
	ServiceType corev1.ServiceType `json:"serviceType,omitempty"`
}

// Leader is one line of the top of the leaderboard.
type Leader struct {
	Rank   int32  `json:"rank"`
	Trader string `json:"trader"`
	Team   string `json:"team,omitempty"`
	Score  int64  `json:"score"`
}

// MarketStatus is what the engine and the operator report about a market.
type MarketStatus struct {
	// Phase of the market's clock.
	// +optional
	Phase MarketPhase `json:"phase,omitempty"`
	// Tick is the number of the last published tick.
	// +optional
	Tick int64 `json:"tick,omitempty"`
	// Price of the last tick, a decimal string.
	// +optional
	Price string `json:"price,omitempty"`
	// Traders is the number of Traders in this market.
	// +optional
	Traders int32 `json:"traders,omitempty"`
	// Leaders are the top three of the ranking.
	// +optional
	// +listType=atomic
	Leaders []Leader `json:"leaders,omitempty"`
	// OpenedAt is when the market was first seen open.
	// +optional
	OpenedAt *metav1.Time `json:"openedAt,omitempty"`
	// ClosedAt is when the market closed.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`
	// DashboardURL is where the dashboard is served inside the cluster, or on the load
	// balancer once it has an address.
	// +optional
	DashboardURL string `json:"dashboardURL,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Market is one banana market: an engine, its clock, its rules and its leaderboard.
// Deleting a Market stops its engine and deletes its game data in Redis (streams,
// accounts, scores, and the Redis users of its Traders), so that a new Market of the same
// name starts a new game; export the results first if you want to keep them.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mkt,categories=monkonomy
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 50",message="a Market's name must be 1-50 lower-case letters, digits and '-', starting and ending with a letter or digit"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Tick",type=integer,JSONPath=`.status.tick`
// +kubebuilder:printcolumn:name="Price",type=string,JSONPath=`.status.price`
// +kubebuilder:printcolumn:name="Traders",type=integer,JSONPath=`.status.traders`
// +kubebuilder:printcolumn:name="Leader",type=string,JSONPath=`.status.leaders[0].team`
// +kubebuilder:printcolumn:name="Dashboard",type=string,JSONPath=`.status.dashboardURL`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Market struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:default={}
	Spec   MarketSpec   `json:"spec,omitempty"`
	Status MarketStatus `json:"status,omitempty"`
}

// MarketList is a list of Markets.
// +kubebuilder:object:root=true
type MarketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Market `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Market{}, &MarketList{})
}
