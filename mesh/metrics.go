package mesh

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/mesh/wire"
	"courtmesh/regions"
)

// Drop reasons of court_mesh_events_dropped_total.
const (
	dropQueueFull = "queue_full"
	dropLinkDown  = "link_down"
	dropCorrupt   = "corrupt" // received compressed and failed to decompress
)

// Results of court_mesh_requests_total.
const (
	resultOK          = "ok"
	resultUnavailable = "unavailable"
	resultTimeout     = "timeout"
	resultRemoteError = "remote_error"
	resultCanceled    = "canceled"
)

// unknownRegion labels peers whose region is not in the catalog.
const unknownRegion = "unknown"

type metrics struct {
	regions  map[string]bool
	linksUp  *prometheus.GaugeVec
	rtt      *prometheus.HistogramVec
	drops    *prometheus.CounterVec
	requests *prometheus.CounterVec
	depth    prometheus.Histogram
	// zstd: bytes of the frames sent compressed, before (plain) and after
	// (compressed) compression.
	zstd *prometheus.CounterVec
}

// newMetrics builds the node's metrics with every label value at zero, and
// registers them if reg is not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		regions: map[string]bool{},
		linksUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "court_mesh_link_up",
			Help: "Mesh links up, by peer region.",
		}, []string{"peer_region"}),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "court_mesh_rtt_seconds",
			Help:    "Round-trip time of mesh pings, by peer region.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 12),
		}, []string{"peer_region"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_mesh_events_dropped_total",
			Help: "Mesh events dropped, by reason: before sending (queue_full, link_down) or on receipt (corrupt).",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_mesh_requests_total",
			Help: "Mesh requests sent, by result.",
		}, []string{"result"}),
		zstd: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_mesh_compressed_bytes_total",
			Help: "Bytes of the mesh frames sent compressed, by form: plain (before) or compressed (after).",
		}, []string{"form"}),
		depth: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "court_mesh_send_queue_depth",
			Help:    "Events waiting in a flow's send queue, observed as each event is queued.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
	for _, r := range append(regions.Default().Names(), unknownRegion) {
		m.regions[r] = true
		m.linksUp.WithLabelValues(r)
		m.rtt.WithLabelValues(r)
	}
	for _, r := range []string{dropQueueFull, dropLinkDown, dropCorrupt} {
		m.drops.WithLabelValues(r)
	}
	for _, r := range []string{resultOK, resultUnavailable, resultTimeout, resultRemoteError, resultCanceled} {
		m.requests.WithLabelValues(r)
	}
	m.zstd.WithLabelValues("plain")
	m.zstd.WithLabelValues("compressed")
	if reg == nil {
		return m, nil
	}
	var err error
	m.linksUp, err = register(reg, m.linksUp)
	if err == nil {
		m.rtt, err = register(reg, m.rtt)
	}
	if err == nil {
		m.drops, err = register(reg, m.drops)
	}
	if err == nil {
		m.requests, err = register(reg, m.requests)
	}
	if err == nil {
		m.depth, err = register(reg, m.depth)
	}
	if err == nil {
		m.zstd, err = register(reg, m.zstd)
	}
	if err != nil {
		return nil, fmt.Errorf("register mesh metrics: %w", err)
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name, so that several nodes in one process (courtd dev) share, and
// sum into, one set of series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *metrics) region(r string) string {
	if m.regions[r] {
		return r
	}
	return unknownRegion
}

func (m *metrics) linkUp(region string)   { m.linksUp.WithLabelValues(m.region(region)).Inc() }
func (m *metrics) linkDown(region string) { m.linksUp.WithLabelValues(m.region(region)).Dec() }
func (m *metrics) dropped(reason string)  { m.drops.WithLabelValues(reason).Inc() }

// compressed counts a frame of plain bytes sent as compressed bytes.
func (m *metrics) compressed(plain, compressed int) {
	m.zstd.WithLabelValues("plain").Add(float64(plain))
	m.zstd.WithLabelValues("compressed").Add(float64(compressed))
}

func (m *metrics) observeRTT(region string, d time.Duration) {
	m.rtt.WithLabelValues(m.region(region)).Observe(d.Seconds())
}

// request counts one request by the kind of its error.
func (m *metrics) request(err error) {
	result := resultOK
	var werr *wire.Error
	switch {
	case err == nil:
	case errors.As(err, &werr) && werr.Code == wire.CodeUnavailable, errors.As(err, &werr) && werr.Code == wire.CodeShuttingDown:
		result = resultUnavailable
	case errors.As(err, &werr) && werr.Code == wire.CodeRequestTimeout:
		result = resultTimeout
	case errors.As(err, &werr):
		result = resultRemoteError
	default:
		result = resultCanceled
	}
	m.requests.WithLabelValues(result).Inc()
}
