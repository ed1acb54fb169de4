// Package admin is a node's authenticated admin surface: an HTTPS listener
// with mutual TLS, announced in the membership, on which operators (courtctl
// with an operator certificate from the cluster CA) drain, undrain and read
// a node, and read its profiles (/debug/pprof). The probes and /metrics stay
// on the read-only ops listener. The
// package owns the wire format of those calls (Status, DrainRequest), the
// server that checks the caller, and the client courtctl uses.
package admin

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Paths of the admin API.
const (
	PathStatus  = "/v1/status"
	PathDrain   = "/v1/drain"
	PathUndrain = "/v1/undrain"
	PathMigrate = "/v1/migrate"
)

// MigrateRequest asks a home to move a session it holds, live, to another
// home node.
type MigrateRequest struct {
	Session string `json:"session"`
	To      string `json:"to"`
	Region  string `json:"region"`
}

// DefaultWindow is an edge's drain window when the operator gives none.
const DefaultWindow = 30 * time.Second

// Status is what a node reports of itself.
type Status struct {
	ID       string `json:"id"`
	Role     string `json:"role"`
	Region   string `json:"region"`
	State    string `json:"state"`
	Sockets  int    `json:"sockets"`
	Sessions int    `json:"sessions"`
}

// DrainRequest asks a node to drain.
type DrainRequest struct {
	// Window spreads an edge's disconnects; zero means DefaultWindow. Homes
	// ignore it.
	Window Duration `json:"window"`
	// To, for a home, is the home nodes its sessions are handed to, spread
	// among them; empty: the other homes of its region. An edge refuses it.
	To []Target `json:"to,omitempty"`
}

// Target is a home node sessions are handed to, and its region.
type Target struct {
	Node   string `json:"node"`
	Region string `json:"region"`
}

// Duration is a time.Duration that reads and writes as "30s" in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Node is what the admin surface acts on.
type Node interface {
	Status() Status
	// Drain starts draining and returns at once; the node's state and load,
	// in Status and the membership, show the progress. A home hands its
	// sessions to the nodes of to (empty: its region's other homes); an error
	// says why the node refuses the drain, and leaves it as it was.
	Drain(window time.Duration, to []Target) error
	// Undrain makes the node active again.
	Undrain()
	// Migrate moves a session this node holds to home node to of region.
	Migrate(ctx context.Context, session, to, region string) error
}

// Authorize decides from a completed handshake whether the caller may
// administer the node; its error is shown to the caller.
type Authorize func(tls.ConnectionState) error

// Server serves the admin API. Build it with NewServer.
type Server struct {
	node      Node
	authorize Authorize
	tls       *tls.Config
	log       *slog.Logger
}

// NewServer returns a server for node. tlsConf is the node's server TLS
// config (its certificate, and the cluster CA as ClientCAs). A client
// certificate the CA did not sign fails the handshake; a call without a
// certificate is answered 401, and one whose certificate authorize refuses
// 403, each with what to do.
func NewServer(node Node, tlsConf *tls.Config, authorize Authorize, log *slog.Logger) *Server {
	c := tlsConf.Clone()
	c.NextProtos = []string{"http/1.1"}
	c.ClientAuth = tls.VerifyClientCertIfGiven
	c.VerifyConnection = nil
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{node: node, authorize: authorize, tls: c, log: log}
}

// Handler is the admin API, without TLS: each call is checked with
// authorize against r.TLS.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.node.Status())
	})
	mux.HandleFunc("POST "+PathDrain, func(w http.ResponseWriter, r *http.Request) {
		var req DrainRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil && len(body) > 0 {
			err = json.Unmarshal(body, &req)
		}
		if err == nil {
			err = checkTargets(req.To)
		}
		if err != nil || req.Window < 0 {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("bad drain request: %v; send {\"window\":\"30s\",\"to\":[{\"node\":NODE,\"region\":REGION}]}", err)})
			return
		}
		window := time.Duration(req.Window)
		if window == 0 {
			window = DefaultWindow
		}
		s.log.Info("drain requested by operator", "operator", operatorOf(r), "window", window, "to", req.To)
		if err := s.node.Drain(window, req.To); err != nil {
			writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusAccepted, s.node.Status())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST "+PathMigrate, func(w http.ResponseWriter, r *http.Request) {
		var req MigrateRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil || req.Session == "" || req.To == "" || req.Region == "" {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("bad migrate request %v: send {\"session\":ID,\"to\":NODE,\"region\":REGION}", err)})
			return
		}
		s.log.Info("migration requested by operator", "operator", operatorOf(r), "session", req.Session, "to", req.To)
		if err := s.node.Migrate(r.Context(), req.Session, req.To, req.Region); err != nil {
			writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, s.node.Status())
	})
	mux.HandleFunc("POST "+PathUndrain, func(w http.ResponseWriter, r *http.Request) {
		s.log.Info("undrain requested by operator", "operator", operatorOf(r))
		s.node.Undrain()
		writeJSON(w, http.StatusOK, s.node.Status())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "an operator certificate is required: courtctl cert create --operator --name NAME, then --tls-dir"})
			return
		}
		if err := s.authorize(*r.TLS); err != nil {
			writeJSON(w, http.StatusForbidden, apiError{Error: fmt.Sprintf("not an operator: %v; use a certificate from courtctl cert create --operator", err)})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Serve serves the admin API over TLS on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	tln := tls.NewListener(ln, s.tls)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(tln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin listener: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin listener: %w", err)
	}
	return nil
}

// checkTargets refuses a target without a node or a region.
func checkTargets(to []Target) error {
	for _, t := range to {
		if t.Node == "" || t.Region == "" {
			return fmt.Errorf("target %+v: want a node and its region", t)
		}
	}
	return nil
}

func operatorOf(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Subject.CommonName
	}
	return ""
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
