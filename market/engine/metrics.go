package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the engine's Prometheus metrics, in a registry of its own so that several
// engines can run in one process (the arena, tests).
type metrics struct {
	registry  *prometheus.Registry
	ticks     prometheus.Counter
	orders    *prometheus.CounterVec
	invalid   *prometheus.CounterVec
	batchSize prometheus.Histogram
	apply     prometheus.Histogram
	lag       prometheus.Gauge
	leader    prometheus.Gauge
	doorbell  prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "ticks_total", Help: "Ticks published."}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "orders_total", Help: "Orders answered, by status (repeated: a retried order id answered again)."}, []string{"status"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "invalid_input_total", Help: "Input that could not be understood, by source."}, []string{"source"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "batch_orders", Help: "Orders per batch read from Redis.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "commit_seconds", Help: "Time from sending one batch to Redis (MULTI/EXEC) to its answer.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "order_lag_seconds", Help: "Age of the oldest order of the latest batch when it was read."}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "leader", Help: "1 while this engine holds the market's lease."}),
		doorbell: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "monkonomy", Subsystem: "engine",
			Name: "doorbell", Help: "1 while the engine waits for orders on Redis's invalidations of the orders streams (CLIENT TRACKING BCAST), 0 while it waits with XREAD BLOCK."}),
	}
	m.registry.MustRegister(m.ticks, m.orders, m.invalid, m.batchSize, m.apply, m.lag, m.leader, m.doorbell,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
