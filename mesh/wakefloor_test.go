package mesh_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// wakeEchoEnv makes the test binary the answering process of
// BenchmarkWakeFloor (TestMain).
const wakeEchoEnv = "COURTMESH_WAKE_ECHO"

// wakeFloorBound bounds a run of BenchmarkWakeFloor: both processes give up
// on a datagram lost or a peer gone.
const wakeFloorBound = 10 * time.Minute

// BenchmarkWakeFloor measures what one hop between two processes costs on
// this machine at the least, the floor under every mesh hop, socket read and
// Postgres round trip of docs/performance.md: a process answers one small
// UDP datagram, back to back (gap=0) and woken from sleep for each one
// (gap=1ms: the pace of one session's steps at the benchmark's loads, where
// each process sleeps between them). It reports the answering process's
// own CPU per datagram (its getrusage, reported by it); the sender spins
// between datagrams, so only the answering process sleeps.
func BenchmarkWakeFloor(b *testing.B) {
	for _, gap := range []time.Duration{0, time.Millisecond} {
		b.Run("gap="+gap.String(), func(b *testing.B) { wakeFloor(b, gap) })
	}
}

func wakeFloor(b *testing.B, gap time.Duration) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), wakeEchoEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { // the child exits after "stop"; the kill ends it after a failure
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		b.Fatal("the echo process printed no address")
	}
	addr, err := net.ResolveUDPAddr("udp", lines.Text())
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(wakeFloorBound)); err != nil {
		b.Fatal(err)
	}
	msg, answer := make([]byte, 200), make([]byte, 2048)
	roundTrip := func(p []byte) {
		if _, err := c.Write(p); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(answer); err != nil {
			b.Fatal(err)
		}
	}
	roundTrip([]byte("start"))
	b.ResetTimer()
	next := time.Now()
	for b.Loop() {
		for time.Now().Before(next) { // spin: the echo, not the sender, sleeps
		}
		roundTrip(msg)
		next = time.Now().Add(gap)
	}
	b.StopTimer()
	if _, err := c.Write([]byte("stop")); err != nil {
		b.Fatal(err)
	}
	if !lines.Scan() {
		b.Fatal("the echo process printed no CPU")
	}
	us, err := strconv.ParseFloat(lines.Text(), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(us, "echo-cpu-µs/op")
}

// wakeEcho answers every datagram with itself; it prints its address, then,
// at "stop", its CPU per datagram since "start" in µs.
func wakeEcho() {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	if err := c.SetDeadline(time.Now().Add(wakeFloorBound)); err != nil {
		panic(err)
	}
	fmt.Println(c.LocalAddr())
	buf := make([]byte, 2048)
	var n int
	var cpu0 time.Duration
	for {
		k, from, err := c.ReadFrom(buf)
		if err != nil {
			panic(err)
		}
		switch string(buf[:k]) {
		case "start":
			n, cpu0 = 0, processCPU()
		case "stop":
			fmt.Println(strconv.FormatFloat(float64(processCPU()-cpu0)/1e3/float64(max(n, 1)), 'f', 1, 64))
			return
		default:
			n++
		}
		if _, err := c.WriteTo(buf[:k], from); err != nil {
			panic(err)
		}
	}
}

// processCPU returns the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
