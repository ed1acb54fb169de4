// Package e2e holds the end-to-end tests: courtd processes (edges in us and
// asia, home nodes in us) on loopback, over the real QUIC mesh, the real
// Redis and Postgres, driven by the real socket.io-client 4.8 from npm
// (e2e/client), and by the Go client of package loadgen where a test races
// or kills.
//
// The tests run one after another, not in parallel: each starts its own
// cluster of race-enabled processes, and on a 2-core machine clusters running
// side by side would starve each other's lease renewals and timers.
package e2e
