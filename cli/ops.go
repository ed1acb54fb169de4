package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newOpsRegistry returns the registry of one process's ops endpoint, holding
// the standard collectors: process_* (RSS, CPU, file descriptors) and go_*
// (heap, GC, goroutines). The roles register their own metrics on it.
func newOpsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	return reg
}

// opsHandler serves what operators and probes read from every node, all
// read-only: /metrics (Prometheus, from gatherer), /healthz and /readyz
// (ready() decides). pprof is on the admin listener, behind operator
// certificates (package admin).
func opsHandler(gatherer prometheus.Gatherer, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// runOps serves opsHandler on addr until ctx ends; an empty addr serves
// nothing.
func runOps(ctx context.Context, addr string, gatherer prometheus.Gatherer, ready func() error, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	return serveHTTP(ctx, addr, opsHandler(gatherer, ready), func(a string) {
		logger.Info("ops endpoint listening", "component", "ops", "addr", a)
	})
}
