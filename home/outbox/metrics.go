package outbox

import "github.com/prometheus/client_golang/prometheus"

// kinds are the outbox row kinds, the only label values.
var kinds = []string{"push", "memory_job", "case_resolved"}

type metrics struct {
	backlog      prometheus.Gauge
	dead         prometheus.Gauge
	sink         *prometheus.GaugeVec
	delivered    *prometheus.CounterVec
	failures     *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	discarded    *prometheus.CounterVec
	lag          *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "court_outbox_backlog",
			Help: "Outbox rows pending (not delivered, dead-lettered or discarded), all nodes together.",
		}),
		dead: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "court_outbox_dead",
			Help: "Dead-lettered outbox rows (courtctl outbox --dead), all nodes together.",
		}),
		sink: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "court_outbox_sink",
			Help: "1 for this node's outbox sink mode: webhook, hold (no webhook configured: rows stay pending) or discard (--webhook none).",
		}, []string{"mode"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_delivered_total",
			Help: "Outbox rows this node delivered, by kind.",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_failures_total",
			Help: "Failed outbox deliveries this node, by kind (each retried, or dead-lettered after the last attempt).",
		}, []string{"kind"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_dead_lettered_total",
			Help: "Outbox rows this node dead-lettered after their last failed attempt, by kind.",
		}, []string{"kind"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_discarded_total",
			Help: "Outbox rows this node discarded (--webhook none), by kind.",
		}, []string{"kind"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "court_outbox_lag_seconds",
			Help:    "Time from a row's commit to its delivery by this node, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"kind"}),
	}
	for _, k := range kinds {
		m.lag.WithLabelValues(k)
		m.delivered.WithLabelValues(k)
		m.failures.WithLabelValues(k)
		m.deadLettered.WithLabelValues(k)
		m.discarded.WithLabelValues(k)
	}
	for _, mode := range []string{modeWebhook, modeHold, modeDiscard} {
		m.sink.WithLabelValues(mode)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.backlog, m.dead, m.sink, m.delivered, m.failures, m.deadLettered, m.discarded, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
