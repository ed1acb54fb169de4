package edge

import (
	"errors"
	"fmt"
	"net/http"
)

// serveHealthz answers 200 while the process serves HTTP at all.
func (s *Server) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// CheckReady reports why the edge is not ready, or nil: it must accept
// sockets and reach a home node of its home region over the mesh. /readyz on
// the client port and the node's ops endpoint both answer from it.
func (s *Server) CheckReady() error {
	if !s.Serving() {
		return errors.New("draining")
	}
	if len(s.cfg.Mesh.HomeNodes(s.homeRegion)) == 0 {
		return fmt.Errorf("no home node of region %s reachable", s.homeRegion)
	}
	return nil
}

// serveReadyz answers 200 when CheckReady passes, and 503 with the reason
// otherwise (draining, or before the mesh is up).
func (s *Server) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.CheckReady(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
		return
	}
	fmt.Fprintln(w, "ready")
}
