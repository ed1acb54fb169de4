package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildBinaries builds courtd and courtctl once per test binary run, with
// the race detector; buildPlainBinaries without it, for the tests that
// measure latency and memory (the race detector multiplies both).
var (
	buildBinaries      = sync.OnceValues(func() (string, error) { return build("-race") })
	buildPlainBinaries = sync.OnceValues(func() (string, error) { return build() })
)

func build(flags ...string) (string, error) {
	dir, err := os.MkdirTemp("", "courtmesh-e2e-bin-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{"courtd", "courtctl"} {
		args := append(append([]string{"build"}, flags...), "-o", filepath.Join(dir, name), "courtmesh/cli/"+name)
		cmd := exec.Command("go", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %w\n%s", name, err, out)
		}
	}
	return dir, nil
}

func binaries(t *testing.T, plain bool) string {
	t.Helper()
	b := buildBinaries
	if plain {
		b = buildPlainBinaries
	}
	dir, err := b()
	require.NoError(t, err)
	return dir
}

// syncBuffer is a bytes.Buffer safe for a process writer and a test reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one courtd process under test.
type proc struct {
	name string
	bin  string
	env  []string
	args []string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// start runs bin with args and env; the process is killed at cleanup and its
// output is logged if the test failed.
func start(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, bin: bin, env: env, args: args, out: &syncBuffer{}}
	p.launch(t)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", name, p.out.String())
		}
	})
	return p
}

// launch starts the process.
func (p *proc) launch(t *testing.T) {
	t.Helper()
	p.done = make(chan struct{})
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, p.cmd.Start(), "start %s", p.name)
	done := p.done
	go func() { _ = p.cmd.Wait(); close(done) }()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// restart starts a killed process again with the same arguments.
func (p *proc) restart(t *testing.T) {
	t.Helper()
	<-p.done
	fmt.Fprintf(p.out, "--- restarted ---\n")
	p.launch(t)
}

// signal sends sig (SIGSTOP, SIGCONT) to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// waitOutput waits until the process has printed substr.
func (p *proc) waitOutput(t *testing.T, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(p.out.String(), substr) {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q:\n%s", p.name, substr, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not print %q within %v:\n%s", p.name, substr, timeout, p.out.String())
}

// Ports freePort hands out: below Linux's default ephemeral range
// (32768–60999, /proc/sys/net/ipv4/ip_local_port_range), where the kernel
// never picks a port by itself. A port picked with :0 comes from that range,
// so between its close and the process's bind another socket (a QUIC
// dialer of a parallel test, an outgoing connection) could be given it, and
// the process failed with "address already in use" (seen in CI twice).
const (
	portsFrom = 20000
	portsTo   = 32768
)

// handedOut are the ports freePort returned, never returned twice.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// freePort returns a loopback address with a port of network ("tcp" or
// "udp") that is free now, outside the kernel's ephemeral range, and that
// no other call returned; it falls back to a port the kernel picks.
func freePort(t *testing.T, network string) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 200 {
		port := portsFrom + rand.IntN(portsTo-portsFrom)
		if handedOut.ports[port] {
			continue
		}
		if addr, ok := bindable(network, fmt.Sprintf("127.0.0.1:%d", port)); ok {
			handedOut.ports[port] = true
			return addr
		}
	}
	addr, ok := bindable(network, "127.0.0.1:0")
	require.True(t, ok, "no free %s port on loopback", network)
	return addr
}

// bindable reports whether addr can be bound on network now, and the
// address bound.
func bindable(network, addr string) (string, bool) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return "", false
		}
		defer c.Close()
		return c.LocalAddr().String(), true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", false
	}
	defer l.Close()
	return l.Addr().String(), true
}

// runNode runs a scenario script of e2e/client with env and fails the test
// with its output if it exits non-zero.
func runNode(t *testing.T, script string, env []string, timeout time.Duration, args ...string) string {
	t.Helper()
	clientDir, err := filepath.Abs("client")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(clientDir, "node_modules", "socket.io-client")); err != nil {
		msg := "e2e/client/node_modules missing: run `make e2e-deps` (npm ci in e2e/client)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = clientDir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	require.NoError(t, err, "scenario %s failed", script)
	return string(out)
}
