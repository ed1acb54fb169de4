package edge

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/protocol"
)

// Action results, the result label of court_edge_actions_total.
const (
	resultOK          = "ok"           // the home answered without a court error
	resultRejected    = "rejected"     // the home answered with a court error
	resultUnavailable = "unavailable"  // no home could be reached in time
	resultUnknown     = "unknown"      // not a court event this edge knows
	resultRateLimited = "rate_limited" // refused by the per-user rate limits
)

// Drop reasons, the reason label of court_edge_send_dropped_total.
const (
	dropQueueFull = "queue_full" // the socket's send queue was full (it is cut off)
	dropStale     = "stale"      // a court:state older than one already sent
	dropClosed    = "closed"     // the socket was closing
)

// Resync events, the event label of court_edge_resyncs_total: what asked
// for resyncs (resync.go), and how the reads went.
const (
	resyncLink      = "link"          // a home's link went down or came up
	resyncGap       = "gap"           // a court:state skipped a version
	resyncPresence  = "presence_lost" // the directory lost the edge's presence
	resyncRegister  = "register"      // a register answered IDLE from the cache, checked once its presence is written
	resyncDelivered = "delivered"     // a read brought a socket a newer state
	resyncFailed    = "failed"        // a read failed; it is tried again
)

// Decisions taken while the Limiter fails, the decision label of
// court_edge_limiter_unavailable_total.
const (
	limiterLocal   = "local"   // counted by this edge alone
	limiterRefused = "refused" // a FailClosed event past the grace
)

// How the ack of a response whose state is in a document was made, the
// result label of court_edge_doc_acks_total (docacks.go): built from the
// session's copy, or read from the home because the copy did not reach the
// version in time (late), could not take a document (lost), or is not for
// the actor (not_for_user).
const (
	docAckBuilt      = "built"
	docAckLate       = "late"
	docAckLost       = "lost"
	docAckNotForUser = "not_for_user"
)

var (
	docAckResults    = []string{docAckBuilt, docAckLate, docAckLost, docAckNotForUser}
	resyncEvents     = []string{resyncLink, resyncGap, resyncPresence, resyncRegister, resyncDelivered, resyncFailed}
	limiterDecisions = []string{limiterLocal, limiterRefused}
	actionResults    = []string{resultOK, resultRejected, resultUnavailable, resultUnknown, resultRateLimited}
	dropReasons      = []string{dropQueueFull, dropStale, dropClosed}
)

type metrics struct {
	sockets *prometheus.GaugeVec
	dropped *prometheus.CounterVec
	closes  *prometheus.CounterVec
	actions *prometheus.CounterVec
	latency *prometheus.HistogramVec
	resyncs *prometheus.CounterVec
	docAcks *prometheus.CounterVec

	limiterDown *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, region string) (*metrics, error) {
	m := &metrics{
		sockets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "court_edge_sockets", Help: "Open client sockets.",
		}, []string{"region"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_send_dropped_total", Help: "Frames not written to a socket, by reason.",
		}, []string{"reason"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_closes_total", Help: "Closed client sockets, by reason.",
		}, []string{"reason"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_actions_total", Help: "Client events handled, by event and result.",
		}, []string{"event", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "court_edge_action_seconds",
			Help:    "Time from a client event's arrival to its answer, retries to the homes included, by event and result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"event", "result"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_resyncs_total", Help: "State resyncs: what asked for them (link, gap, presence_lost, register) and their reads (delivered, failed).",
		}, []string{"event"}),
		docAcks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_doc_acks_total",
			Help: "Acks whose state the home left in a document: built from the session's copy, or read from the home instead (late, lost, not_for_user).",
		}, []string{"result"}),
		limiterDown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_edge_limiter_unavailable_total",
			Help: "Rate-limited events seen while the shared rate limiter failed, by decision: counted by this edge alone, or refused (fail closed).",
		}, []string{"decision"}),
	}
	m.zero(region)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sockets, m.dropped, m.closes, m.actions, m.latency, m.resyncs, m.docAcks, m.limiterDown} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register edge metrics: %w", err)
		}
	}
	return m, nil
}

// zero creates every label combination up front.
func (m *metrics) zero(region string) {
	m.sockets.WithLabelValues(region)
	for _, e := range resyncEvents {
		m.resyncs.WithLabelValues(e)
	}
	for _, r := range docAckResults {
		m.docAcks.WithLabelValues(r)
	}
	for _, r := range dropReasons {
		m.dropped.WithLabelValues(r)
	}
	for _, d := range limiterDecisions {
		m.limiterDown.WithLabelValues(d)
	}
	for _, r := range closeReasons {
		m.closes.WithLabelValues(string(r))
	}
	for _, e := range protocol.Labels() {
		for _, r := range actionResults {
			m.actions.WithLabelValues(e, r)
			m.latency.WithLabelValues(e, r)
		}
	}
}

// observe records the latency of an event answered with result, since start.
func (m *metrics) observe(event, result string, start time.Time) {
	m.latency.WithLabelValues(event, result).Observe(time.Since(start).Seconds())
}
