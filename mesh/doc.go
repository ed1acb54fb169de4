// Package mesh is the node-to-node transport of courtmesh: one QUIC
// connection per node pair, mutually authenticated with the cluster CA
// (mesh/pki), carrying the frames of mesh/wire. Edges dial homes; a link is
// bidirectional once up, so homes push events to edges over connections the
// edges dialed. See mesh/README.md for topology, streams, liveness and
// reconnects, and mesh/wire for the protocol flow.
//
// A Node is built with New, run with Run, and stopped with Shutdown (drain:
// GoAway, then close) or Close (hard). Request sends one request to a peer on
// its own stream; SendEvent queues one event on one of the link's ordered
// event flows; Peers reports every known peer's link state.
package mesh
