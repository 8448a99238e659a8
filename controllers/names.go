package controllers

import (
	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// Labels on everything the operator creates. The manager's cache only holds objects with
// LabelManagedBy, so that it does not cache every Secret and Pod of the cluster.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "monkonomy-operator"
	LabelComponent = "app.kubernetes.io/component"
	LabelMarket    = "game.monkonomy.dev/market"
	LabelTrader    = "game.monkonomy.dev/trader"

	componentEngine = "engine"
	componentTrader = "trader"

	finalizer = "game.monkonomy.dev/finalizer"

	// settingsKey is the key of the engine's ConfigMap that `monkonomy engine --config`
	// reads; scriptKey the key of a script trader's ConfigMap.
	settingsKey = "market.yaml"
	scriptKey   = "script.star"
	configDir   = "/etc/monkonomy"
	scriptDir   = "/etc/monkonomy/script"

	// passwordKey and usernameKey are the keys of Secrets holding Redis credentials.
	passwordKey = "password"
	usernameKey = "username"

	// enginePort serves the dashboard, its API and the metrics.
	enginePort = 8080
)

// Environment variables of engine and trader pods, as market/redisconn and the trader
// runtime read them.
const (
	envRedisAddr     = "MONKONOMY_REDIS_ADDR"
	envRedisUsername = "MONKONOMY_REDIS_USERNAME"
	envRedisPassword = "MONKONOMY_REDIS_PASSWORD"
	envMarket        = "MONKONOMY_MARKET"
	envTrader        = "MONKONOMY_TRADER"
	envKeyPrefix     = "MONKONOMY_KEY_PREFIX"
)

func marketOf(m *v1alpha1.Market) protocol.Market {
	return protocol.Market{Namespace: m.Namespace, Name: m.Name}
}

func traderMarket(t *v1alpha1.Trader) protocol.Market {
	return protocol.Market{Namespace: t.Namespace, Name: t.Spec.Market}
}

// Names of the objects a Market owns. Market names are at most 50 characters (the CRD
// says so), so these stay within the 63 of a Service name.
func engineName(m *v1alpha1.Market) string      { return m.Name + "-engine" }
func engineRedisName(m *v1alpha1.Market) string { return m.Name + "-engine-redis" }

// Names of the objects a Trader owns; Trader names are at most 56 characters.
func traderPodName(t *v1alpha1.Trader) string    { return "trader-" + t.Name }
func traderSecretName(t *v1alpha1.Trader) string { return "trader-" + t.Name + "-redis" }
func traderScriptName(t *v1alpha1.Trader) string { return "trader-" + t.Name + "-script" }

// engineSelector selects the pods of a market's engine.
func engineSelector(m *v1alpha1.Market) map[string]string {
	return map[string]string{LabelMarket: m.Name, LabelComponent: componentEngine, LabelManagedBy: ManagedBy}
}

// engineLabels label a market's engine objects: its selector's labels, so that the
// engine's pods match it, and more.
func engineLabels(m *v1alpha1.Market) map[string]string {
	l := engineSelector(m)
	l["app.kubernetes.io/name"] = "monkonomy"
	return l
}

// traderSelector selects the pods of a trader.
func traderSelector(t *v1alpha1.Trader) map[string]string {
	return map[string]string{LabelTrader: t.Name, LabelManagedBy: ManagedBy}
}

// traderLabels label a trader's objects: its selector's labels, so that the trader's pod
// matches it, and more.
func traderLabels(t *v1alpha1.Trader) map[string]string {
	l := traderSelector(t)
	l[LabelComponent], l[LabelMarket], l["app.kubernetes.io/name"] = componentTrader, t.Spec.Market, "monkonomy"
	return l
}
