package mesh_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/wire"
)

// TestSetPeersDynamic: an edge started with no peers links to a home as
// soon as SetPeers lists it, and to a second one added later; a home dropped
// from the list while its link is down is forgotten and not redialed; a bad
// list is refused and changes nothing.
func TestSetPeersDynamic(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home-1", "home-2", "edge-1")
	h1 := startHome(t, ids["home-1"], "127.0.0.1:0", &recorder{})
	h2cfg := nodeConfig(t, ids["home-2"], "us", wire.RoleHome, &recorder{})
	h2cfg.ListenAddr = "127.0.0.1:0"
	h2, err := mesh.New(h2cfg)
	require.NoError(t, err)
	h2done := make(chan error, 1)
	go func() { h2done <- h2.Run(t.Context()) }()
	<-h2.Ready()
	edge := startNode(t, nodeConfig(t, ids["edge-1"], "asia", wire.RoleEdge, &recorder{}))
	require.Empty(t, edge.Peers(), "no peers before the membership names one")

	p1 := mesh.Peer{NodeID: "home-1", Region: "us", Addr: h1.Addr().String()}
	p2 := mesh.Peer{NodeID: "home-2", Region: "us", Addr: h2.Addr().String()}
	require.NoError(t, edge.SetPeers([]mesh.Peer{p1}))
	eventually(t, 5*time.Second, 20*time.Millisecond, linkIs(edge, "home-1", true))
	require.NoError(t, edge.SetPeers([]mesh.Peer{p1, p2}))
	eventually(t, 5*time.Second, 20*time.Millisecond, linkIs(edge, "home-2", true))
	_, err = edge.Request(t.Context(), "home-2", &wire.Request{Event: "court:status"})
	require.NoError(t, err)

	require.True(t, errors.Is(edge.SetPeers([]mesh.Peer{p1, p1}), mesh.ErrConfig))
	require.True(t, errors.Is(edge.SetPeers([]mesh.Peer{{NodeID: "edge-1", Addr: "x:1"}}), mesh.ErrConfig))

	// h2 stops and leaves the list: once its link is down it is gone.
	require.NoError(t, h2.Close())
	require.NoError(t, <-h2done)
	eventually(t, 5*time.Second, 20*time.Millisecond, linkIs(edge, "home-2", false))
	require.NoError(t, edge.SetPeers([]mesh.Peer{p1}))
	_, known := peerStatus(edge, "home-2")
	require.False(t, known, "a peer dropped from the list while down is forgotten")
	eventually(t, 5*time.Second, 20*time.Millisecond, linkIs(edge, "home-1", true))
}
