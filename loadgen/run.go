package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/token"

	"courtmesh/protocol"
)

// Config is one load run.
type Config struct {
	// URLs are the edges (http://host:port). Couple i puts its creator on
	// URLs[i%n] and its partner on URLs[(i+1)%n].
	URLs []string
	// Secret signs the users' HS256 tokens.
	Secret []byte
	// Idle sockets are opened and registered on IdleURL (zero = URLs[0]) and
	// held for the whole run.
	Idle    int
	IdleURL string
	// Couples run one whole session each, serve to CLOSED.
	Couples int
	// RampPerSec, when positive, starts at most that many couples a second.
	RampPerSec int
	// Concurrency bounds couples in flight and dials in flight. Zero means 50.
	Concurrency int
	// Think, when positive, paces each couple (see pacer): one action per
	// Think on average, each interval drawn within ±ThinkJitter (a fraction
	// of Think) of it. The offered rate is then min(Concurrency, Couples)
	// actions per Think. Zero is the closed loop: each action as soon as the
	// previous one reached the partner.
	Think       time.Duration
	ThinkJitter float64
	// PIDs are the server processes whose RSS is reported.
	PIDs []int
	// IdleSettle is how long the RSS of PIDs is read after the last idle
	// socket registered; the RSS right after it is reported too. Zero reads
	// it only then. The wait lets a server return the memory of the
	// handshake burst (courtd edge does at its first quiet second:
	// docs/performance.md).
	IdleSettle time.Duration
	// CPU are the server processes whose CPU is counted over the sessions.
	CPU []CPUGroup
	// ServerCore, when set, is the core the servers are pinned to: its busy
	// time over the sessions is reported beside CPU, so what other
	// processes took of it shows (a paced row's p99 is the servers' own
	// only when that is near zero).
	ServerCore *int
	// ActionTimeout bounds every wait. Zero means 10 s.
	ActionTimeout time.Duration
	// Progress receives a progress line now and then; nil means none.
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Idle         int     `json:"idle_sockets"`
	IdleErrors   int     `json:"idle_errors"`
	RSSBaseline  int64   `json:"rss_baseline_bytes"`
	RSSIdle      int64   `json:"rss_idle_bytes"`
	BytesPerIdle float64 `json:"bytes_per_idle_socket"`
	// IdleSettle is Config.IdleSettle in seconds: RSSIdle and BytesPerIdle
	// are read that long after the last register ack, RSSAtLastAck and
	// BytesPerIdleAtLastAck right after it.
	IdleSettle            float64 `json:"idle_settle_seconds"`
	RSSAtLastAck          int64   `json:"rss_at_last_ack_bytes"`
	BytesPerIdleAtLastAck float64 `json:"bytes_per_idle_socket_at_last_ack"`
	// RSSCurve is the RSS of Config.PIDs as the idle sockets opened, at
	// about every tenth of them.
	RSSCurve          []RSSPoint         `json:"rss_curve,omitempty"`
	Couples           int                `json:"couples"`
	Concurrency       int                `json:"concurrency"`
	Completed         int                `json:"completed_sessions"`
	SessionsPerSec    float64            `json:"sessions_per_sec"`
	TransitionsPerSec float64            `json:"transitions_per_sec"`
	Actions           map[string]Summary `json:"actions"`
	ActionOrder       []string           `json:"-"`
	ConnectRegister   Summary            `json:"connect_register"`
	CouplesDuration   float64            `json:"couples_seconds"`
	IdleOpenDuration  float64            `json:"idle_open_seconds"`
	// ThinkSeconds and ThinkJitter are Config's (zero: closed loop);
	// OfferedActionsPerSec the rate they offer with every couple in flight
	// (zero: closed loop, as much as the servers take);
	// AchievedActionsPerSec the rate of actions that reached the partner
	// while every couple was acting (see actionRate.perSec);
	// LateActions those a paced couple sent after they fell due, because
	// the previous action had not reached the partner yet.
	ThinkSeconds          float64 `json:"think_seconds,omitempty"`
	ThinkJitter           float64 `json:"think_jitter,omitempty"`
	OfferedActionsPerSec  float64 `json:"offered_actions_per_sec,omitempty"`
	AchievedActionsPerSec float64 `json:"achieved_actions_per_sec"`
	LateActions           int     `json:"late_actions"`
	// CPU is what each of Config.CPU used over the sessions; ServerCPUMS
	// their sum per completed session, LoadgenCPUMS the load generator's own.
	CPU          []CPUUse `json:"cpu,omitempty"`
	ServerCPUMS  float64  `json:"server_cpu_ms_per_session,omitempty"`
	LoadgenCPUMS float64  `json:"loadgen_cpu_ms_per_session,omitempty"`
	// ServerCoreBusy is the busy time of Config.ServerCore over the
	// sessions, in seconds, of ServerCoreSeconds; ServerCoreOthers the part
	// of it that CPU's processes did not use (other processes on the core).
	ServerCoreBusy    float64 `json:"server_core_busy_seconds,omitempty"`
	ServerCoreSeconds float64 `json:"server_core_seconds,omitempty"`
	ServerCoreOthers  float64 `json:"server_core_others_seconds,omitempty"`
	// BytesPerSession is what reached both partners' sockets over a whole
	// session, on average; FloorBytesPerSession the part the protocol needs
	// (every ack, each distinct court:state once: see Traffic).
	BytesPerSession      float64 `json:"bytes_per_session,omitempty"`
	FloorBytesPerSession float64 `json:"floor_bytes_per_session,omitempty"`
	// AllMS are the samples of ActAll, in milliseconds, for the plots.
	AllMS []float64 `json:"all_actions_ms,omitempty"`
}

// Run executes cfg. The idle sockets are closed when it returns.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("loadgen: no URLs")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 50
	}
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 10 * time.Second
	}
	if cfg.IdleURL == "" {
		cfg.IdleURL = cfg.URLs[0]
	}
	if cfg.Think < 0 || cfg.ThinkJitter < 0 || cfg.ThinkJitter >= 1 {
		return nil, fmt.Errorf("loadgen: think %v ±%v: want think ≥ 0 and a jitter in [0, 1)", cfg.Think, cfg.ThinkJitter)
	}
	res := &Result{Idle: cfg.Idle, Couples: cfg.Couples, Concurrency: min(cfg.Concurrency, cfg.Couples), Actions: map[string]Summary{}}
	if cfg.Think > 0 {
		res.ThinkSeconds, res.ThinkJitter = cfg.Think.Seconds(), cfg.ThinkJitter
		res.OfferedActionsPerSec = float64(res.Concurrency) / cfg.Think.Seconds()
	}
	var err error
	if res.RSSBaseline, err = rssOrZero(cfg.PIDs); err != nil {
		return nil, err
	}
	var connect Series
	start := time.Now()
	idle, idleErrs, curve := openIdle(ctx, cfg, &connect)
	res.RSSCurve = curve
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	res.IdleOpenDuration = time.Since(start).Seconds()
	res.IdleErrors = idleErrs
	if res.RSSAtLastAck, err = rssOrZero(cfg.PIDs); err != nil {
		return nil, err
	}
	res.RSSIdle = res.RSSAtLastAck
	if len(cfg.PIDs) > 0 && cfg.IdleSettle > 0 && len(idle) > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.IdleSettle):
		}
		res.IdleSettle = cfg.IdleSettle.Seconds()
		if res.RSSIdle, err = rssOrZero(cfg.PIDs); err != nil {
			return nil, err
		}
	}
	if n := len(idle); n > 0 && res.RSSIdle > 0 {
		res.BytesPerIdle = float64(res.RSSIdle-res.RSSBaseline) / float64(n)
		res.BytesPerIdleAtLastAck = float64(res.RSSAtLastAck-res.RSSBaseline) / float64(n)
	}
	series := map[string]*Series{}
	for _, name := range actionOrder {
		series[name] = &Series{}
	}
	self := []CPUGroup{{Name: "load generator", PIDs: []int{os.Getpid()}}}
	cpuBefore, err := snapshotCPU(ctx, append(cfg.CPU, self...))
	if err != nil {
		return nil, err
	}
	var coreBefore CoreTicks
	if cfg.ServerCore != nil {
		if coreBefore, err = ReadCoreTicks(*cfg.ServerCore); err != nil {
			return nil, err
		}
	}
	start = time.Now()
	var (
		traffic trafficSum
		rate    actionRate
	)
	res.Completed = runCouples(ctx, cfg, series, &connect, &traffic, &rate)
	res.CouplesDuration = time.Since(start).Seconds()
	res.AchievedActionsPerSec, res.LateActions = rate.perSec(), rate.late
	cpuAfter, err := snapshotCPU(ctx, append(cfg.CPU, self...))
	if err != nil {
		return nil, err
	}
	if cfg.ServerCore != nil {
		coreAfter, err := ReadCoreTicks(*cfg.ServerCore)
		if err != nil {
			return nil, err
		}
		res.ServerCoreBusy = float64(coreAfter.Busy-coreBefore.Busy) / clockTicks
		res.ServerCoreSeconds = float64(coreAfter.Total-coreBefore.Total) / clockTicks
	}
	if cfg.Couples > 0 {
		use := cpuUse(append(cfg.CPU, self...), cpuBefore, cpuAfter, res.Completed)
		res.CPU = use[:len(cfg.CPU)]
		for _, u := range res.CPU {
			res.ServerCPUMS += u.MSPerSession
		}
		if res.ServerCoreSeconds > 0 {
			res.ServerCoreOthers = res.ServerCoreBusy
			for _, u := range res.CPU {
				res.ServerCoreOthers -= u.Seconds
			}
			res.ServerCoreOthers = max(res.ServerCoreOthers, 0)
		}
		res.LoadgenCPUMS = use[len(cfg.CPU)].MSPerSession
		res.AllMS = series[ActAll].Millis()
		if res.Completed > 0 {
			res.BytesPerSession = float64(traffic.bytes.Load()) / float64(res.Completed)
			res.FloorBytesPerSession = float64(traffic.floor.Load()) / float64(res.Completed)
		}
	}
	if res.CouplesDuration > 0 {
		res.SessionsPerSec = float64(res.Completed) / res.CouplesDuration
		res.TransitionsPerSec = res.SessionsPerSec * TransitionsPerSession
	}
	res.ActionOrder = actionOrder
	for name, s := range series {
		res.Actions[name] = s.Summary()
	}
	res.ConnectRegister = connect.Summary()
	return res, nil
}

func rssOrZero(pids []int) (int64, error) {
	if len(pids) == 0 {
		return 0, nil
	}
	return RSS(pids)
}

// connectUser dials url as a new user and registers.
func connectUser(ctx context.Context, cfg Config, url string, connect *Series) (*Client, string, error) {
	user := newUUID()
	tok, err := token.Mint(cfg.Secret, user, time.Hour)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ActionTimeout)
	defer cancel()
	t0 := time.Now()
	c, err := Dial(ctx, url, tok)
	if err != nil {
		connect.Fail()
		return nil, "", err
	}
	ack, err := c.Emit(ctx, protocol.Register, map[string]string{"userId": user})
	if err != nil || !ackOK(ack) {
		connect.Fail()
		c.Close()
		return nil, "", fmt.Errorf("register: %w", errors.Join(err, fmt.Errorf("ack %s", ack)))
	}
	connect.Add(time.Since(t0))
	return c, user, nil
}

// RSSPoint is the RSS of the measured processes with Sockets idle sockets open.
type RSSPoint struct {
	Sockets int   `json:"sockets"`
	Bytes   int64 `json:"rss_bytes"`
}

// openIdle opens cfg.Idle registered sockets, and samples the RSS of
// cfg.PIDs at about every tenth of them.
func openIdle(ctx context.Context, cfg Config, connect *Series) ([]*Client, int, []RSSPoint) {
	var (
		mu    sync.Mutex
		conns = make([]*Client, 0, cfg.Idle)
		errs  atomic.Int64
		curve []RSSPoint
		step  = max(cfg.Idle/10, 1)
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i := range cfg.Idle {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			c, _, err := connectUser(gctx, cfg, cfg.IdleURL, connect)
			if err != nil {
				errs.Add(1)
				return nil
			}
			mu.Lock()
			conns = append(conns, c)
			n := len(conns)
			if n%step == 0 && len(cfg.PIDs) > 0 {
				if rss, err := RSS(cfg.PIDs); err == nil {
					curve = append(curve, RSSPoint{Sockets: n, Bytes: rss})
				}
			}
			mu.Unlock()
			if cfg.Progress != nil && (n%1000 == 0 || i == cfg.Idle-1) {
				fmt.Fprintf(cfg.Progress, "idle sockets: %d/%d open, %d errors\n", n, cfg.Idle, errs.Load())
			}
			return nil
		})
	}
	_ = g.Wait()
	return conns, int(errs.Load()), curve
}

// trafficSum adds up the Traffic of completed sessions.
type trafficSum struct{ bytes, floor atomic.Int64 }

func runCouples(ctx context.Context, cfg Config, series map[string]*Series, connect *Series, traffic *trafficSum, rate *actionRate) int {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	var done, completed atomic.Int64
	for i := range cfg.Couples {
		if gctx.Err() != nil {
			break
		}
		if cfg.RampPerSec > 0 {
			time.Sleep(time.Second / time.Duration(cfg.RampPerSec)) // the ramp: at most RampPerSec new couples a second
		}
		g.Go(func() error {
			if runCouple(gctx, cfg, i, series, connect, traffic, rate) {
				completed.Add(1)
			}
			if n := done.Add(1); cfg.Progress != nil && (n%100 == 0 || int(n) == cfg.Couples) {
				fmt.Fprintf(cfg.Progress, "couples: %d/%d done\n", n, cfg.Couples)
			}
			return nil
		})
	}
	_ = g.Wait()
	return int(completed.Load())
}

// runCouple connects couple i, creator on URLs[i%n] and partner on
// URLs[(i+1)%n], when it arrives (see pacer), and runs one whole session.
// It reports whether the session completed, and adds what reached both
// sockets over it to traffic, its actions to rate.
func runCouple(ctx context.Context, cfg Config, i int, series map[string]*Series, connect *Series, traffic *trafficSum, rate *actionRate) bool {
	pace := newPacer(cfg, i)
	if pace.arrive(ctx) != nil {
		return false
	}
	n := len(cfg.URLs)
	a, _, err := connectUser(ctx, cfg, cfg.URLs[i%n], connect)
	if err != nil {
		reportConnect(ctx, cfg, i, err)
		return false
	}
	defer a.Close()
	b, bID, err := connectUser(ctx, cfg, cfg.URLs[(i+1)%n], connect)
	if err != nil {
		reportConnect(ctx, cfg, i, err)
		return false
	}
	defer b.Close()
	ta, tb := a.Traffic(), b.Traffic()
	if err := runSession(ctx, cfg, a, b, bID, series, pace, rate); err != nil {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "couple %d: %v\n", i, err)
		}
		return false
	}
	ta2, tb2 := a.Traffic(), b.Traffic()
	traffic.bytes.Add(ta2.Bytes - ta.Bytes + tb2.Bytes - tb.Bytes)
	traffic.floor.Add(ta2.FloorBytes - ta.FloorBytes + tb2.FloorBytes - tb.FloorBytes)
	return true
}

// reportConnect says why a couple could not connect, unless the run is over.
func reportConnect(ctx context.Context, cfg Config, i int, err error) {
	if cfg.Progress != nil && ctx.Err() == nil {
		fmt.Fprintf(cfg.Progress, "couple %d: connect: %v\n", i, err)
	}
}

func ackOK(ack json.RawMessage) bool {
	if bytes.HasPrefix(ack, []byte(`{"ok":true`)) {
		return true // the common case, without parsing a 46 KiB state
	}
	var a struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(ack, &a) == nil && a.OK
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// WriteReport prints res as a table.
func WriteReport(w io.Writer, res *Result) {
	if res.Idle > 0 {
		fmt.Fprintf(w, "idle sockets: %d open (%d errors) in %.1fs\n", res.Idle-res.IdleErrors, res.IdleErrors, res.IdleOpenDuration)
		if res.RSSIdle > 0 {
			fmt.Fprintf(w, "server RSS: %.1f MiB → %.1f MiB; %.0f bytes (%.2f KiB) per idle socket\n",
				float64(res.RSSBaseline)/(1<<20), float64(res.RSSIdle)/(1<<20), res.BytesPerIdle, res.BytesPerIdle/1024)
		}
		if res.IdleSettle > 0 {
			fmt.Fprintf(w, "  read %.0fs after the last register ack; right after it: %.1f MiB, %.2f KiB per idle socket\n",
				res.IdleSettle, float64(res.RSSAtLastAck)/(1<<20), res.BytesPerIdleAtLastAck/1024)
		}
	}
	if res.Couples > 0 {
		fmt.Fprintf(w, "couples: %d, %d sessions completed in %.1fs (%.1f sessions/s, %.0f transitions/s)\n",
			res.Couples, res.Completed, res.CouplesDuration, res.SessionsPerSec, res.TransitionsPerSec)
		order := res.ActionOrder
		if len(order) == 0 {
			order = actionOrder
		}
		writeTable(w, append(order, "connect+register"), withConnect(res))
		fmt.Fprintf(w, "actions: %s; achieved %.1f actions/s (%d sent late)\n", offered(res), res.AchievedActionsPerSec, res.LateActions)
		for _, u := range res.CPU {
			fmt.Fprintf(w, "cpu %-20s %8.2f s  %7.2f ms per session\n", u.Name, u.Seconds, u.MSPerSession)
		}
		if len(res.CPU) > 0 {
			fmt.Fprintf(w, "server cpu per whole session: %.2f ms\n", res.ServerCPUMS)
		}
		fmt.Fprintf(w, "load generator cpu per whole session: %.2f ms\n", res.LoadgenCPUMS)
		if res.ServerCoreSeconds > 0 {
			fmt.Fprintf(w, "server core: busy %.1f s of %.1f s, other processes %.1f s of it\n",
				res.ServerCoreBusy, res.ServerCoreSeconds, res.ServerCoreOthers)
		}
		fmt.Fprintf(w, "bytes reaching both sockets per whole session: %.0f (floor: every ack and each distinct state once: %.0f)\n", res.BytesPerSession, res.FloorBytesPerSession)
	}
}

// offered says what load a run offered: its paced rate, or the closed loop.
func offered(res *Result) string {
	if res.OfferedActionsPerSec == 0 {
		return fmt.Sprintf("closed loop, %d couples in flight acting back to back (offered: as much as the servers take)", res.Concurrency)
	}
	return fmt.Sprintf("paced, %d couples in flight, one action per couple every %s ±%.0f%%: offered %.1f actions/s",
		res.Concurrency, seconds(res.ThinkSeconds), res.ThinkJitter*100, res.OfferedActionsPerSec)
}

// seconds prints s seconds as a duration ("2s", "1.5s", "250ms").
func seconds(s float64) string { return time.Duration(s * float64(time.Second)).String() }

func withConnect(res *Result) map[string]Summary {
	rows := make(map[string]Summary, len(res.Actions)+1)
	for k, v := range res.Actions {
		rows[k] = v
	}
	rows["connect+register"] = res.ConnectRegister
	return rows
}
