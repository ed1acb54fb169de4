// Package protocol is the court protocol's vocabulary (court-protocol.md),
// written out once: the client event names (§2.5) and the mesh operation
// that reads a user's state, the REST routes (§5), the per-user rate limits
// of the events, the ack and court:error payloads (coded ones included),
// the refusals of the app's checks and their REST shapes, the IDLE state,
// and the one form of an event in metric labels. It imports only the
// standard library; the edge, the home and loadgen import it.
package protocol
