package home

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/home/court"
)

// Results of an action (label result of court_home_actions_total).
const (
	resultOK       = "ok"        // acked ok:true
	resultRejected = "rejected"  // acked ok:false with a court rule's error
	resultError    = "error"     // acked ok:false because a store failed
	resultNotOwner = "not_owner" // answered not_owner: another node owns it
)

// Results of a fired timer (label result of court_home_timer_fires_total).
const (
	fireDone   = "done"   // the timer's transition committed
	fireStale  = "stale"  // the session moved on; nothing to do
	fireFailed = "failed" // the commit failed; the timer is re-armed
)

type metrics struct {
	actions     *prometheus.CounterVec
	transitions *prometheus.CounterVec
	sessions    prometheus.Gauge
	fires       *prometheus.CounterVec
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
	}
	for _, ev := range eventLabels() {
		for _, r := range []string{resultOK, resultRejected, resultError, resultNotOwner} {
			m.actions.WithLabelValues(ev, r)
		}
	}
	for _, p := range court.Phases {
		m.transitions.WithLabelValues(string(p))
	}
	for _, r := range []string{fireDone, fireStale, fireFailed} {
		m.fires.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.actions, m.transitions, m.sessions, m.fires} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register home metrics: %w", err)
		}
	}
	return m, nil
}
