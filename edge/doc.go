// Package edge is the client-facing role of courtmesh: it terminates
// Socket.IO v5 over Engine.IO v4 WebSockets from the unchanged court client,
// verifies the Supabase JWT locally, forwards every court action to the
// session's home node over the mesh, and writes the events homes relay back
// to the user's sockets. It also serves the client's REST fallback
// (/api/court/...) through the same path, and applies the global per-user
// rate limits. An edge holds no session state.
//
// See README.md for the framing choice and the per-connection shape.
package edge
