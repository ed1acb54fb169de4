package loadgen

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStatTicksNameWithSpacesAndParens(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	line := "4242 (node (worker) 2) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 99 0 0\n"
	ticks, err := parseStatTicks(line)
	require.NoError(t, err)
	require.EqualValues(t, 1234+567, ticks)

	_, err = parseStatTicks("4242 (x) S 1 2")
	require.ErrorContains(t, err, "fields after the name")
}

func TestCPUUseCountsNewProcessesFromZeroAndSplitsPerSession(t *testing.T) {
	groups := []CPUGroup{{Name: "postgres"}}
	before := cpuSnapshot{{10: 100, 11: 50}}
	after := cpuSnapshot{{10: 300, 11: 50, 12: 40}} // 12 appeared during the run
	use := cpuUse(groups, before, after, 4)
	require.Equal(t, []CPUUse{{Name: "postgres", Seconds: 2.4, MSPerSession: 600}}, use)
}

func TestCPUTicksOfThisProcessGrow(t *testing.T) {
	t0, err := CPUTicks(os.Getpid())
	require.NoError(t, err)
	x := 0
	for t1 := t0; t1 == t0; t1, _ = CPUTicks(os.Getpid()) {
		for i := range 1_000_000 {
			x ^= i
		}
	}
	_ = x
	_, err = CPUTicks(1 << 30)
	require.Error(t, err, "a pid that does not exist")
	snap, err := snapshotCPU(context.Background(), []CPUGroup{{Name: "gone", Find: func(context.Context) ([]int, error) { return []int{1 << 30}, nil }}})
	require.NoError(t, err, "a found process that left is skipped")
	require.Empty(t, snap[0])
}

func TestParseCoreTicksPicksTheCoreAndLeavesIdleOut(t *testing.T) {
	stat := "cpu  900 0 300 5000 20 0 10 0 0 0\n" +
		"cpu0 400 0 100 2600 10 0 5 0 0 0\n" +
		"cpu1 500 7 200 2400 10 0 5 3 0 0\n" +
		"cpu10 1 1 1 1 1 1 1 1 0 0\n" +
		"intr 12345\n"
	got, err := parseCoreTicks(stat, 1)
	require.NoError(t, err)
	require.Equal(t, CoreTicks{Busy: 500 + 7 + 200 + 5 + 3, Total: 500 + 7 + 200 + 2400 + 10 + 5 + 3}, got, "cpu1, not cpu10 nor the sum line; idle and iowait are not busy")

	_, err = parseCoreTicks(stat, 2)
	require.ErrorContains(t, err, "no core 2")
	_, err = parseCoreTicks("cpu1 1 2 3\n", 1)
	require.ErrorContains(t, err, "want 8")
}

func TestReadCoreTicksOfCoreZero(t *testing.T) {
	got, err := ReadCoreTicks(0)
	require.NoError(t, err)
	require.Positive(t, got.Total)
	require.LessOrEqual(t, got.Busy, got.Total)
}
