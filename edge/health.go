package edge

import (
	"fmt"
	"net/http"
)

// serveHealthz answers 200 while the process serves HTTP at all.
func (s *Server) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// serveReadyz answers 200 when the edge accepts sockets and a home node of
// its home region is reachable over the mesh, and 503 with the reason
// otherwise (draining, or before the mesh is up).
func (s *Server) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case !s.Serving():
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "draining")
	case len(s.cfg.Mesh.HomeNodes(s.homeRegion)) == 0:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "no home node of region %s reachable\n", s.homeRegion)
	default:
		fmt.Fprintln(w, "ready")
	}
}
