package cli

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestDefaultGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	t.Setenv("GOGC", "100")
	defaultGCPercent(edgeGCPercent)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set, GOGC = %d, want the operator's 100", got)
	}

	os.Unsetenv("GOGC") // t.Setenv restores it
	defaultGCPercent(edgeGCPercent)
	if got := debug.SetGCPercent(100); got != edgeGCPercent {
		t.Fatalf("without GOGC, GOGC = %d, want %d", got, edgeGCPercent)
	}
}

func TestBurstRelease(t *testing.T) {
	const mib = 1 << 20
	var b burstRelease
	var allocs uint64
	tick := func(n, live uint64) bool {
		allocs += n
		release, _ := b.tick(allocs, live)
		return release
	}

	for range 10 { // idle sockets' pings: quiet, nothing to release
		if tick(mib/2, 30*mib) {
			t.Fatal("released while quiet with no burst before")
		}
	}
	for range 5 { // a wave of handshakes: busy, 50 MiB in all
		if tick(10*mib, 30*mib) {
			t.Fatal("released during a burst")
		}
	}
	if !tick(mib/2, 30*mib) {
		t.Fatal("no release at the first quiet tick after a burst")
	}
	if tick(mib/2, 30*mib) {
		t.Fatal("released twice for one burst")
	}

	if tick(8*mib, 30*mib) || tick(mib/2, 30*mib) {
		t.Fatal("released after a burst below releaseAfterBurst")
	}
	if tick(8*mib, 30*mib) || !tick(mib/2, 30*mib) { // 16 MiB now, in two bursts
		t.Fatal("no release once the bursts since the last release add up")
	}
	// A large heap's quiet ticks allocate more: an eighth of it is quiet,
	// so its ticks of 10 MiB are no burst.
	for range 5 {
		if tick(10*mib, 400*mib) {
			t.Fatal("released while quiet for a 400 MiB heap")
		}
	}
	if tick(mib/2, 400*mib) {
		t.Fatal("a 400 MiB heap's quiet ticks counted as a burst")
	}
	// Steady load never goes quiet: nothing is released under it.
	for range 20 {
		if tick(20*mib, 30*mib) {
			t.Fatal("released under steady load")
		}
	}
	if !tick(mib/2, 30*mib) {
		t.Fatal("no release when the steady load stopped")
	}
	// Steady traffic about the floor (a paced bench's edge, measured: 3 to
	// 12 MiB a second) dips below it now and then: no release at a dip,
	// however much it allocated in all.
	for range 10 {
		for _, n := range []uint64{5, 6, 4, 5, 3} {
			if tick(n*mib, 30*mib) {
				t.Fatalf("released at a dip to %d MiB of steady traffic", n)
			}
		}
	}
	// A wave of handshakes during that traffic is released at the first
	// second quiet against it, not at the traffic's next dip.
	for range 3 {
		tick(80*mib, 30*mib)
	}
	if tick(3*mib, 30*mib) {
		t.Fatal("released at a dip of the traffic after the wave")
	}
	if !tick(mib/2, 30*mib) {
		t.Fatal("no release at the first quiet second after a wave")
	}
}
