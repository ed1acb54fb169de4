package redistest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// replicaSyncTimeout bounds how long a new replica takes to sync. The
// primary's diskless sync waits repl-diskless-sync-delay (5 s by default)
// for more replicas before it sends its data.
const replicaSyncTimeout = 30 * time.Second

// Replica is a redis-server replicating the Redis at URL, started by a
// test, with no persistence, in a temporary directory.
type Replica struct {
	// URL is the replica's redis:// URL (REDIS_REPLICA_URL).
	URL string
	// Upstream is the host:port it replicates from.
	Upstream string
	bin      string
	port     int
	dir      string
	client   rueidis.Client
	process  *exec.Cmd
}

// StartReplica starts a replica of upstream (host:port; empty means the
// Redis at URL) and waits until it is in sync; it is killed when t ends. It
// copies every key of the primary, other tests' included; tests read only
// their own prefix from it. A machine without redis-server fails the test
// when CI=true and skips it otherwise.
func StartReplica(t testing.TB, upstream string) *Replica {
	t.Helper()
	r := NewReplica(t, upstream)
	r.Start(t)
	return r
}

// NewReplica is StartReplica without the start: nothing answers at the
// replica's URL until Start, as when a node starts before its replica.
func NewReplica(t testing.TB, upstream string) *Replica {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: redis-server not found with CI=true: %v", err)
		}
		t.Skipf("redistest: redis-server not found: %v", err)
	}
	if upstream == "" {
		u, err := url.Parse(URL())
		if err != nil {
			t.Fatalf("redistest: REDIS_URL: %v", err)
		}
		upstream = u.Host
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		t.Fatalf("redistest: upstream %q: %v", upstream, err)
	}
	own := freePort(t)
	return &Replica{URL: fmt.Sprintf("redis://127.0.0.1:%d", own), Upstream: upstream, bin: bin, port: own, dir: t.TempDir()}
}

// Start starts the replica's process and waits until it is in sync; the
// process is killed when t ends. Start a replica once.
func (r *Replica) Start(t testing.TB) {
	t.Helper()
	host, port, _ := net.SplitHostPort(r.Upstream)
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--replicaof", host, port,
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", r.dir+"/redis.log")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start replica: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	r.process = cmd
	opt, err := rueidis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	opt.DisableCache = true
	deadline := time.Now().Add(replicaSyncTimeout)
	for r.client == nil {
		if r.client, err = rueidis.NewClient(opt); err != nil && time.Now().After(deadline) {
			t.Fatalf("redistest: connect to the replica: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(r.client.Close)
	r.waitInSync(t, deadline)
}

// Detach stops the replication (REPLICAOF NO ONE): the replica keeps what
// it has and stops seeing the primary's writes.
func (r *Replica) Detach(t testing.TB) {
	t.Helper()
	r.do(t, r.client.B().Arbitrary("REPLICAOF", "NO", "ONE").Build())
}

// Kill ends the replica's process at once, as a crash would.
func (r *Replica) Kill(t testing.TB) {
	t.Helper()
	if err := r.process.Process.Kill(); err != nil {
		t.Fatalf("redistest: kill replica: %v", err)
	}
	_ = r.process.Wait()
}

// Freeze stops the replica's process (SIGSTOP) and leaves its sockets
// open, as a host that hangs or drops every packet would: connections to
// it stay up and nothing answers on them. Thaw resumes it.
func (r *Replica) Freeze(t testing.TB) {
	t.Helper()
	if err := r.process.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("redistest: freeze replica: %v", err)
	}
}

// Thaw resumes a frozen replica (SIGCONT).
func (r *Replica) Thaw(t testing.TB) {
	t.Helper()
	if err := r.process.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("redistest: thaw replica: %v", err)
	}
}

// Attach replicates from Upstream again and waits until the replica is in
// sync.
func (r *Replica) Attach(t testing.TB) {
	t.Helper()
	host, port, _ := net.SplitHostPort(r.Upstream)
	r.do(t, r.client.B().Arbitrary("REPLICAOF", host, port).Build())
	r.waitInSync(t, time.Now().Add(replicaSyncTimeout))
}

func (r *Replica) do(t testing.TB, cmd rueidis.Completed) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.client.Do(ctx, cmd).Error(); err != nil {
		t.Fatalf("redistest: replica: %v", err)
	}
}

// waitInSync waits until the replica's link to its primary is up and its
// initial sync done.
func (r *Replica) waitInSync(t testing.TB, deadline time.Time) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := r.client.Do(ctx, r.client.B().Info().Section("replication").Build()).ToString()
		cancel()
		if err == nil && strings.Contains(info, "master_link_status:up") && strings.Contains(info, "master_sync_in_progress:0") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: replica not in sync after %v: %v %s", replicaSyncTimeout, err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a TCP port free on loopback now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
