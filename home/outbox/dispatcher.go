package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"courtmesh/lifecycle"
)

// Bounds of the bookkeeping writes, which run even while Run is stopping so
// that finished POSTs are recorded and not sent again.
const (
	recordTimeout = 5 * time.Second
	// errorLogEvery is how often a run of failed rounds is logged: the
	// first, then every errorLogEvery-th.
	errorLogEvery = 20
)

// holdWarnEvery is how often a dispatcher without a webhook warns that it
// holds rows. Tests shorten it.
var holdWarnEvery = 5 * time.Minute

// Sink modes: where rows go.
const (
	modeWebhook = "webhook" // POSTed, signed
	modeHold    = "hold"    // no webhook: kept pending
	modeDiscard = "discard" // --webhook none: marked discarded
)

// Dispatcher delivers outbox rows. Run it once; it is safe to run several
// Dispatchers, on several nodes, over one table.
type Dispatcher struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	send    func(ctx context.Context, r row) error
	mode    string
	// lastHoldWarn is when a holding dispatcher last warned; only Run's
	// goroutine touches it.
	lastHoldWarn time.Time

	ready     chan struct{}
	readyOnce sync.Once
	draining  chan struct{} // closed by Shutdown: no round starts after
	drainOnce sync.Once
	done      chan struct{} // closed when Run returns
	mu        sync.Mutex
	cancel    context.CancelFunc // guarded by mu
	started   bool               // guarded by mu
	closed    bool               // guarded by mu
}

// New returns a Dispatcher; it does no I/O.
func New(cfg Config) (*Dispatcher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("outbox: register metrics: %w", err)
	}
	d := &Dispatcher{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "outbox"),
		metrics:  m,
		ready:    make(chan struct{}),
		draining: make(chan struct{}),
		done:     make(chan struct{}),
	}
	switch {
	case cfg.Webhook != "":
		d.send, d.mode = d.post, modeWebhook
	case cfg.Discard:
		d.send, d.mode = d.discard, modeDiscard
	default:
		d.mode = modeHold
	}
	m.sink.WithLabelValues(d.mode).Set(1)
	return d, nil
}

// Ready is closed once Run has started.
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// Close stops Run at once (a round in flight is cancelled; its claimed rows
// are delivered by a later round) and waits for it to return. It is
// idempotent and safe without Run.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	d.closed = true
	if d.cancel != nil {
		d.cancel()
	}
	started := d.started
	d.mu.Unlock()
	if started {
		<-d.done
	}
	return nil
}

// Shutdown lets the round in flight finish (its deliveries are recorded),
// starts no other, and then closes. If ctx ends first it closes anyway and
// returns ctx's error.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.drainOnce.Do(func() { close(d.draining) })
	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	var err error
	if started {
		select {
		case <-d.done:
		case <-ctx.Done():
			err = fmt.Errorf("outbox shutdown: %w", ctx.Err())
		}
	}
	return errors.Join(err, d.Close())
}

// Run delivers due rows until ctx is cancelled, Shutdown or Close, and then
// returns nil. A round that claimed a full batch is followed at once by the
// next; otherwise Run waits PollInterval. Database errors are logged and
// retried at the next round. A second call returns lifecycle.ErrRunTwice,
// a call after Close lifecycle.ErrClosed.
func (d *Dispatcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	switch {
	case d.started:
		d.mu.Unlock()
		return lifecycle.ErrRunTwice
	case d.closed:
		d.mu.Unlock()
		return lifecycle.ErrClosed
	}
	d.started = true
	d.cancel = cancel
	d.mu.Unlock()
	defer close(d.done)
	d.readyOnce.Do(func() { close(d.ready) })

	timer := time.NewTimer(0)
	defer timer.Stop()
	failed := 0
	for ctx.Err() == nil && !d.isDraining() {
		n, err := d.round(ctx)
		failed = d.noteRound(ctx, err, failed)
		if err == nil && n == d.cfg.Batch {
			continue
		}
		timer.Reset(d.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-d.draining:
		case <-timer.C:
		}
	}
	return nil
}

func (d *Dispatcher) isDraining() bool {
	select {
	case <-d.draining:
		return true
	default:
		return false
	}
}

// noteRound logs a failed round (the first of a run, then every
// errorLogEvery-th) and refreshes the backlog gauge; it returns the new count
// of consecutive failed rounds.
func (d *Dispatcher) noteRound(ctx context.Context, err error, failed int) int {
	if ctx.Err() != nil {
		return failed
	}
	if err != nil {
		if failed%errorLogEvery == 0 {
			d.log.Warn("outbox round failed", "err", err, "consecutive", failed+1)
		}
		return failed + 1
	}
	var backlog, dead int64
	if err := d.cfg.DB.QueryRow(ctx, `SELECT count(*) FILTER (WHERE dead_at IS NULL AND discarded_at IS NULL),
		count(*) FILTER (WHERE dead_at IS NOT NULL) FROM court_outbox WHERE delivered_at IS NULL`).Scan(&backlog, &dead); err == nil {
		d.metrics.backlog.Set(float64(backlog))
		d.metrics.dead.Set(float64(dead))
		d.warnHolding(backlog)
	}
	return 0
}

// warnHolding warns that a dispatcher without a webhook holds rows: at its
// first round, then at most every holdWarnEvery while rows are pending.
func (d *Dispatcher) warnHolding(backlog int64) {
	first := d.lastHoldWarn.IsZero()
	if d.mode != modeHold || (!first && (backlog == 0 || time.Since(d.lastHoldWarn) < holdWarnEvery)) {
		return
	}
	d.lastHoldWarn = time.Now()
	d.log.Warn("no webhook configured: outbox rows are held, not delivered; set --webhook URL (or --webhook none to discard them)",
		"pending", backlog)
}

// backoff returns the delay before the attempt after the attempts-th failure.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.cfg.MaxBackoff
	if shift := attempts - 1; shift < 30 && d.cfg.MinBackoff<<shift < b {
		b = d.cfg.MinBackoff << shift
	}
	half := b / 2
	return half + rand.N(b-half+1)
}
