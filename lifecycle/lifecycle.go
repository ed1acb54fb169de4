// Package lifecycle is the one lifecycle contract of courtmesh's long-running
// roles (the edge server, the home server, the mesh node, the outbox
// dispatcher), and the errors it names. Every role reads the same way:
//
//   - New(Config) validates the config, fills its zero fields from named
//     Default* constants (one withDefaults method per Config), and starts
//     nothing.
//   - Run(ctx) serves until ctx is cancelled, Shutdown or Close, then waits
//     for every goroutine it started and returns nil. A second Run returns
//     ErrRunTwice; a Run after Close returns ErrClosed.
//   - Shutdown(ctx) is graceful: the role stops taking work, finishes or
//     hands over what it holds (a home hands its sessions to its peers), then
//     closes. If ctx ends first it closes anyway and returns ctx's error.
//   - Close() is immediate: it stops Run and waits for every goroutine. It
//     is idempotent and safe without Run.
//
// The repository's lifecycle_test.go holds every role to this contract.
package lifecycle

import "errors"

var (
	// ErrRunTwice is returned by a second call of Run.
	ErrRunTwice = errors.New("Run called twice")
	// ErrClosed is returned by Run after Close or Shutdown.
	ErrClosed = errors.New("closed")
)
