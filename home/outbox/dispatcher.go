package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Bounds of the bookkeeping writes, which run even while Run is stopping so
// that finished POSTs are recorded and not sent again.
const (
	recordTimeout = 5 * time.Second
	// errorLogEvery is how often a run of failed rounds is logged: the
	// first, then every errorLogEvery-th.
	errorLogEvery = 20
)

// Dispatcher delivers outbox rows. Run it once; it is safe to run several
// Dispatchers, on several nodes, over one table.
type Dispatcher struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	send    func(ctx context.Context, r row) error

	ready     chan struct{}
	readyOnce sync.Once
	mu        sync.Mutex
	cancel    context.CancelFunc // guarded by mu
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
		cfg:     cfg,
		log:     cfg.Logger.With("component", "outbox"),
		metrics: m,
		ready:   make(chan struct{}),
	}
	d.send = d.post
	if cfg.Webhook == "" {
		d.send = d.logSink
	}
	return d, nil
}

// Ready is closed once Run has started.
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// Close stops Run. It is idempotent.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.cancel != nil {
		d.cancel()
	}
	return nil
}

// Run delivers due rows until ctx is cancelled or Close is called, and then
// returns nil. A round that claimed a full batch is followed at once by the
// next; otherwise Run waits PollInterval. Database errors are logged and
// retried at the next round.
func (d *Dispatcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.cancel = cancel
	d.mu.Unlock()
	d.readyOnce.Do(func() { close(d.ready) })

	timer := time.NewTimer(0)
	defer timer.Stop()
	failed := 0
	for ctx.Err() == nil {
		n, err := d.round(ctx)
		failed = d.noteRound(ctx, err, failed)
		if err == nil && n == d.cfg.Batch {
			continue
		}
		timer.Reset(d.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return nil
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
	var backlog int64
	if err := d.cfg.DB.QueryRow(ctx, `SELECT count(*) FROM court_outbox WHERE delivered_at IS NULL`).Scan(&backlog); err == nil {
		d.metrics.backlog.Set(float64(backlog))
	}
	return 0
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
