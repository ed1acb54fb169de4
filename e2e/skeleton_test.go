package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
)

// mesh3 is the deployment shape of the skeleton: separate courtd processes for
// a home in us and edges in us and asia.
type mesh3 struct {
	usURL, asiaURL string
	env            []string
	home           *proc
}

func startMesh3(t *testing.T, timerScale string) *mesh3 {
	t.Helper()
	bin := binaries(t)
	redistest.Client(t) // fails under CI=true when Redis is down
	pkiDir := t.TempDir()
	ctl := filepath.Join(bin, "courtctl")
	run := func(args ...string) {
		out, err := exec.Command(ctl, args...).CombinedOutput()
		require.NoError(t, err, "courtctl %v: %s", args, out)
	}
	run("ca", "create", "--dir", filepath.Join(pkiDir, "ca"))
	for _, n := range []string{"home-us-1", "edge-us-1", "edge-asia-1"} {
		run("cert", "create", "--ca-dir", filepath.Join(pkiDir, "ca"), "--node", n, "--out", filepath.Join(pkiDir, n))
	}

	env := []string{
		"SUPABASE_JWT_SECRET=e2e-secret-" + t.Name(),
		"REDIS_URL=" + redistest.URL(),
		"COURT_REDIS_PREFIX=" + redistest.Prefix(t),
		"COURT_TIMER_SCALE=" + timerScale,
	}
	courtd := filepath.Join(bin, "courtd")
	meshAddr := freePort(t, "udp")
	m := &mesh3{env: env}
	m.home = start(t, "home-us-1", courtd, env, "home", "--node-id", "home-us-1", "--region", "us",
		"--tls-dir", filepath.Join(pkiDir, "home-us-1"), "--mesh-addr", meshAddr)
	edges := map[string]string{"edge-us-1": "us", "edge-asia-1": "asia"}
	for node, region := range edges {
		addr := freePort(t, "tcp")
		start(t, node, courtd, env, "edge", "--node-id", node, "--region", region,
			"--tls-dir", filepath.Join(pkiDir, node), "--addr", addr, "--home", "us:home-us-1@"+meshAddr)
		waitReady(t, "http://"+addr, 20*time.Second)
		if region == "us" {
			m.usURL = "http://" + addr
		} else {
			m.asiaURL = "http://" + addr
		}
	}
	return m
}

// waitReady polls an edge's /readyz until it reports ready (its mesh link to
// a home is up).
func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process that is starting
	}
	t.Fatalf("%s not ready within %v", base, timeout)
}

// TestSkeletonAcrossRegions drives the real socket.io-client through the
// walking-skeleton scenario (e2e/client/skeleton.mjs): A on the us edge serves
// B on the asia edge, B accepts, B moves to the us edge and resyncs, bad
// tokens and bad frames are refused without harming others, and the PENDING
// timer fires.
func TestSkeletonAcrossRegions(t *testing.T) {
	t.Parallel()
	// PENDING (10 min) becomes 3 s; EVIDENCE (1 h) 18 s, longer than the run.
	m := startMesh3(t, "0.005")
	env := append([]string{"US_URL=" + m.usURL, "ASIA_URL=" + m.asiaURL}, m.env...)
	out := runNode(t, "skeleton.mjs", env, 90*time.Second)
	require.Contains(t, out, "e2e skeleton: all passed")
}
