package mesh_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/wire"
)

// observer is a recorder that also records link changes, and on LinkUp
// sends an event to the peer through send.
type observer struct {
	recorder
	send    func(peer string)
	linksMu sync.Mutex
	links   []string // "up <peer> <role>" / "down <peer> <role>"
}

func (o *observer) LinkUp(p mesh.PeerInfo) {
	o.note("up", p)
	if o.send != nil {
		o.send(p.NodeID)
	}
}

func (o *observer) LinkDown(p mesh.PeerInfo) { o.note("down", p) }

func (o *observer) note(what string, p mesh.PeerInfo) {
	o.linksMu.Lock()
	defer o.linksMu.Unlock()
	o.links = append(o.links, fmt.Sprintf("%s %s %s", what, p.NodeID, p.Role))
}

func (o *observer) seen() []string {
	o.linksMu.Lock()
	defer o.linksMu.Unlock()
	return slices.Clone(o.links)
}

// A Handler that is a LinkObserver hears each link go up and down, with
// the peer's role; an event sent from LinkUp reaches the peer.
func TestLinkObserver(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home-us-1", "edge-asia-1")
	homeH := &observer{}
	home := startHome(t, ids["home-us-1"], "127.0.0.1:0", homeH)
	homeH.send = func(peer string) {
		require.NoError(t, home.SendEvent(peer, &wire.Event{UserID: "u", Name: "court:state", SessionID: "s", Version: 1}))
	}

	edgeH := &observer{}
	cfg := nodeConfig(t, ids["edge-asia-1"], "asia", wire.RoleEdge, edgeH)
	cfg.Peers = []mesh.Peer{{NodeID: "home-us-1", Region: "us", Addr: home.Addr().String()}}
	edge, err := mesh.New(cfg)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- edge.Run(context.Background()) }()

	eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if edgeH.eventCount() != 1 {
			return fmt.Errorf("edge got %d events", edgeH.eventCount())
		}
		return nil
	})
	require.Equal(t, []string{"up edge-asia-1 edge"}, homeH.seen())
	require.Equal(t, []string{"up home-us-1 home"}, edgeH.seen())

	require.NoError(t, edge.Close())
	require.NoError(t, <-errc)
	eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := homeH.seen(); len(got) != 2 || got[1] != "down edge-asia-1 edge" {
			return fmt.Errorf("home saw %v", got)
		}
		return nil
	})
	require.Equal(t, []string{"up home-us-1 home", "down home-us-1 home"}, edgeH.seen())
}
