package outbox

import "github.com/prometheus/client_golang/prometheus"

// kinds are the outbox row kinds, the only label values.
var kinds = []string{"push", "memory_job", "case_resolved"}

type metrics struct {
	backlog   prometheus.Gauge
	delivered *prometheus.CounterVec
	failures  *prometheus.CounterVec
	lag       *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "court_outbox_backlog",
			Help: "Outbox rows not delivered yet, all nodes together.",
		}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_delivered_total",
			Help: "Outbox rows this node delivered, by kind.",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_outbox_failures_total",
			Help: "Failed outbox deliveries this node will retry, by kind.",
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
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.backlog, m.delivered, m.failures, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
