package mesh

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// expiryWarnBefore is how long before its certificate expires a node starts
// warning, once a day, that it needs `courtctl cert renew`.
const expiryWarnBefore = 14 * 24 * time.Hour

// revocations is the node's copy of the revocation list, and what it last
// said about its certificate.
type revocations struct {
	mu      sync.Mutex
	revoked map[string]bool // guarded by mu; the last list read
	failing bool            // guarded by mu; the last read failed
	certErr string          // guarded by mu; the last certificate reload error
	warned  time.Time       // guarded by mu; the last expiry warning
}

// registerCertExpiry exports when the node's certificate expires, so that an
// alert can ask for a renewal in time.
func registerCertExpiry(cfg Config) error {
	if cfg.Registerer == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "court_mesh_cert_expiry_timestamp_seconds",
		Help: "When the node's certificate (the one in use, reloaded when renewed) expires, in unix seconds.",
	}, func() float64 { return float64(cfg.Identity.NotAfter().Unix()) })
	return cfg.Registerer.Register(g)
}

// revoked reports whether node id is revoked, reading the list again (a
// hello is rare enough). If the list cannot be read, the last list read
// decides: a Redis outage must not cut the mesh, and a revocation already
// seen stays in force.
func (n *Node) revoked(ctx context.Context, id string) bool {
	if n.cfg.Revocations == nil {
		return false
	}
	n.readRevocations(ctx)
	n.rev.mu.Lock()
	defer n.rev.mu.Unlock()
	return n.rev.revoked[id]
}

// readRevocations reads the list into the node's copy; a failure keeps the
// copy and is logged once until a read succeeds again.
func (n *Node) readRevocations(ctx context.Context) {
	ids, err := n.cfg.Revocations.RevokedNodes(ctx)
	n.rev.mu.Lock()
	defer n.rev.mu.Unlock()
	if err != nil {
		if !n.rev.failing {
			n.log.Warn("cannot read the revocation list; using the last one read", "err", err)
		}
		n.rev.failing = true
		return
	}
	if n.rev.failing {
		n.log.Info("revocation list readable again")
	}
	n.rev.failing = false
	n.rev.revoked = make(map[string]bool, len(ids))
	for _, id := range ids {
		n.rev.revoked[id] = true
	}
}

// watchIdentity runs until the node drains: every RevocationPoll it reads
// the revocation list and cuts the links of revoked peers, and picks up a
// renewed certificate from disk.
func (r *runner) watchIdentity() {
	n := r.n
	t := time.NewTicker(n.cfg.RevocationPoll)
	defer t.Stop()
	for {
		select {
		case <-r.loopCtx.Done():
			return
		case <-t.C:
		}
		n.refreshCert()
		if n.cfg.Revocations == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(r.loopCtx, n.cfg.RevocationPoll)
		n.readRevocations(ctx)
		cancel()
		for _, l := range n.links() {
			if n.isRevoked(l.peer.NodeID) {
				n.log.Warn("cutting the link of a revoked node", "peer", l.peer.NodeID)
				l.close(closeRefused, "node "+l.peer.NodeID+" is revoked")
			}
		}
	}
}

func (n *Node) isRevoked(id string) bool {
	n.rev.mu.Lock()
	defer n.rev.mu.Unlock()
	return n.rev.revoked[id]
}

// refreshCert loads a renewed certificate, logging the change, or why a
// changed file was refused (once per reason).
func (n *Node) refreshCert() {
	changed, err := n.cfg.Identity.Refresh()
	n.rev.mu.Lock()
	defer n.rev.mu.Unlock()
	switch {
	case err != nil && err.Error() != n.rev.certErr:
		n.rev.certErr = err.Error()
		n.log.Warn("certificate files changed but cannot be used; keeping the current certificate", "err", err)
	case changed:
		n.rev.certErr = ""
		n.log.Info("certificate reloaded", "not_after", n.cfg.Identity.NotAfter())
	}
	if left := time.Until(n.cfg.Identity.NotAfter()); left < expiryWarnBefore && time.Since(n.rev.warned) > 24*time.Hour {
		n.rev.warned = time.Now()
		n.log.Warn("certificate expires soon: run courtctl cert renew", "not_after", n.cfg.Identity.NotAfter(), "left", left.Round(time.Hour))
	}
}
