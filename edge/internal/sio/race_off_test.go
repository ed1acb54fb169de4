//go:build !race

package sio_test

const raceEnabled = false
