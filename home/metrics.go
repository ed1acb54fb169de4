package home

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/home/court"
	"courtmesh/protocol"
)

// Results of an action (label result of court_home_actions_total).
const (
	resultOK       = "ok"        // acked ok:true
	resultRejected = "rejected"  // acked ok:false with a court rule's error
	resultError    = "error"     // acked ok:false because a store failed
	resultNotOwner = "not_owner" // answered not_owner: another node owns it
	resultRepeat   = "repeat"    // a retried action answered from its remembered outcome
)

// Results of a fired timer (label result of court_home_timer_fires_total).
const (
	fireDone   = "done"   // the timer's transition committed
	fireStale  = "stale"  // the session moved on; nothing to do
	fireFailed = "failed" // the commit failed; the timer is re-armed
)

type metrics struct {
	actions           *prometheus.CounterVec
	transitions       *prometheus.CounterVec
	sessions          prometheus.Gauge
	fires             *prometheus.CounterVec
	timerLag          prometheus.Histogram
	leaseAcquisitions prometheus.Counter
	leaseLosses       prometheus.Counter
	judgeSeconds      *prometheus.HistogramVec
	commitSeconds     prometheus.Histogram
	docBytes          *prometheus.CounterVec
	fanOuts           prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_home_actions_total",
			Help: "Client actions handled, by event and result.",
		}, []string{"event", "result"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_home_transitions_total",
			Help: "Committed session transitions, by the phase entered (IDLE: ended).",
		}, []string{"phase"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "court_home_sessions",
			Help: "Sessions this node owns and holds in memory.",
		}),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_home_timer_fires_total",
			Help: "Phase timers fired, by result.",
		}, []string{"result"}),
		timerLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "court_home_timer_lag_seconds",
			Help:    "Fire time minus deadline of the timers that fired.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		leaseAcquisitions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "court_home_lease_acquisitions_total",
			Help: "Session leases this node acquired by taking a session over.",
		}),
		leaseLosses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "court_home_lease_losses_total",
			Help: "Sessions this node stopped owning because its lease ran out or the store fenced it.",
		}),
		judgeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "court_home_judge_call_seconds",
			Help:    "Judge call latency, by call.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}, []string{"call"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "court_home_commit_seconds",
			Help:    "Latency of the store commit of a transition (one fenced Postgres write), failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}),
		docBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_home_state_doc_bytes_total",
			Help: "Bytes of court:state documents queued to edges, by kind: full or delta (the fields that changed).",
		}, []string{"kind"}),
		fanOuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "court_home_state_fanouts_total",
			Help: "court:state pushes of a user no presence record named, sent to every linked edge (publish.go).",
		}),
	}
	for _, ev := range protocol.Labels() {
		for _, r := range []string{resultOK, resultRejected, resultError, resultNotOwner, resultRepeat} {
			m.actions.WithLabelValues(ev, r)
		}
	}
	for _, p := range court.Phases {
		m.transitions.WithLabelValues(string(p))
	}
	for _, r := range []string{fireDone, fireStale, fireFailed} {
		m.fires.WithLabelValues(r)
	}
	for _, k := range []string{"full", "delta"} {
		m.docBytes.WithLabelValues(k)
	}
	for _, k := range []court.JudgeKind{court.JudgeDeliberate, court.JudgeHybrid} {
		m.judgeSeconds.WithLabelValues(string(k))
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.actions, m.transitions, m.sessions, m.fires,
		m.timerLag, m.leaseAcquisitions, m.leaseLosses, m.judgeSeconds, m.commitSeconds, m.docBytes, m.fanOuts} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register home metrics: %w", err)
		}
	}
	return m, nil
}
