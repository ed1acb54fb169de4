package mesh

import (
	"slices"
	"strings"
	"time"

	"courtmesh/mesh/wire"
)

// peerState is what the node knows of one peer. Guarded by Node.mu.
type peerState struct {
	info  PeerInfo
	link  *link // the link in use, nil while down
	since time.Time
}

// register makes l the link to its peer, unless the node keeps another one.
// With two links between the same pair (both sides dialed), both sides keep
// the same one: a newer link replaces an older one dialed in the same
// direction (the dialer only redials when its old link is gone), and between
// opposite directions the link dialed by the smaller node id wins. It returns
// false if l must be closed.
func (n *Node) register(l *link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopCtx.Err() != nil {
		return false
	}
	ps := n.peers[l.peer.NodeID]
	if ps == nil {
		ps = &peerState{}
		n.peers[l.peer.NodeID] = ps
	}
	old := ps.link
	if old != nil && old.dialed != l.dialed && !n.preferred(l) {
		return false
	}
	if old != nil {
		n.m.linkDown(old.peer.Region)
		old.close(closeDuplicate, "replaced by a newer link")
	}
	ps.info, ps.link, ps.since = l.peer, l, time.Now()
	n.m.linkUp(l.peer.Region)
	return true
}

// preferred reports whether l was dialed by the smaller node id of its pair.
func (n *Node) preferred(l *link) bool {
	dialer := l.peer.NodeID
	if l.dialed {
		dialer = n.cfg.NodeID
	}
	return dialer == min(n.cfg.NodeID, l.peer.NodeID)
}

// unregister reports l's peer down if l is its link. It returns whether it
// was.
func (n *Node) unregister(l *link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	ps := n.peers[l.peer.NodeID]
	if ps == nil || ps.link != l {
		return false
	}
	ps.link, ps.since = nil, time.Now()
	n.m.linkDown(l.peer.Region)
	return true
}

// upLink returns the link to nodeID, or nil while it is down.
func (n *Node) upLink(nodeID string) *link {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ps := n.peers[nodeID]; ps != nil {
		return ps.link
	}
	return nil
}

// links returns every link in use.
func (n *Node) links() []*link {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ls []*link
	for _, ps := range n.peers {
		if ps.link != nil {
			ls = append(ls, ps.link)
		}
	}
	return ls
}

// Peers returns the link state of every configured peer and of every node
// that has connected, sorted by node id.
func (n *Node) Peers() []PeerStatus {
	n.mu.Lock()
	out := make([]PeerStatus, 0, len(n.peers))
	for id, ps := range n.peers {
		st := PeerStatus{NodeID: id, Region: ps.info.Region, Role: ps.info.Role, Since: ps.since}
		if ps.link != nil {
			st.Up, st.RTT = true, ps.link.lastRTT()
		}
		out = append(out, st)
	}
	n.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerStatus) int { return strings.Compare(a.NodeID, b.NodeID) })
	return out
}

// PeerRole returns the role of the node nodeID, as its certificate names it,
// while its link is up.
func (n *Node) PeerRole(nodeID string) (wire.Role, bool) {
	p, up := n.Peer(nodeID)
	return p.Role, up
}

// Peer returns what the hello of nodeID said and whether its link is up.
func (n *Node) Peer(nodeID string) (PeerInfo, bool) {
	if l := n.upLink(nodeID); l != nil {
		return l.peer, true
	}
	return PeerInfo{}, false
}
