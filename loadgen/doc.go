// Package loadgen owns courtmesh's load generator: a Socket.IO client that
// speaks the protocol like socket.io-client (reading each court:state
// without decoding it whole), the court scenarios it drives against any
// server that speaks that protocol (ours or the peer's), either closed-loop
// (each couple acting back to back) or paced at a stated offered rate
// (pacer), and the report (latency percentiles, errors, offered and
// achieved rates, memory per connection and CPU per session from /proc,
// what other processes took of the servers' core,
// bytes per session against their floor).
package loadgen
