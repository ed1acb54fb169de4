// Package e2e holds the end-to-end tests: courtd processes (edges in us and
// asia, a home in us) on loopback, over the real QUIC mesh and the real Redis,
// driven by the real socket.io-client 4.8 from npm (e2e/client).
package e2e
