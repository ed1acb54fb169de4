//go:build race

package sio_test

// raceEnabled: sync.Pool drops items under the race detector, so allocation
// counts are meaningless.
const raceEnabled = true
