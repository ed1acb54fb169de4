package home

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"

	"courtmesh/home/court"
	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// The court:state of a live session travels to each edge as one document
// (package statedoc) for the session's users on that edge, both partners
// in one copy, and after the first as the fields that changed since the
// version the edge has: a delta. The edge rebuilds each user's court:state
// from its copy. An edge gets the whole document when it has none of this
// session from this node on its current link, missed a version, or gains a
// user of a side whose private parts it lacks, or read a user's state since
// (a socket registered, or it resynced: it found a delta it could not apply
// and read the state again). IDLE, the state of
// an ended session, goes as before: a court:state per user.

// docSeed keys the field sums; they never leave the process.
var docSeed = maphash.MakeSeed()

// docs is what a held session's edges have of its documents; guarded by
// the entry's lock.
type docs struct {
	// version is the version of sums: each field's sum, to tell the fields
	// the next version changes.
	version uint64
	sums    []uint64
	// sent is, per edge, what it was last queued.
	sent map[string]docSent
}

// docSent is the document version last queued to an edge, on its link of
// generation gen, with the private parts of sides.
type docSent struct {
	version, gen uint64
	sides        uint8
}

// edgeGens counts each edge's links: a new link loses what was queued on
// the old one, so no delta is based on it.
type edgeGens struct {
	mu   sync.Mutex
	gens map[string]uint64
}

func (g *edgeGens) get(edge string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gens[edge]
}

func (g *edgeGens) bump(edge string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gens == nil {
		g.gens = make(map[string]uint64)
	}
	g.gens[edge]++
}

// sumFields returns the sum of each field, its holes' values included.
func sumFields(fields []statedoc.Field) []uint64 {
	sums := make([]uint64, len(fields))
	var h maphash.Hash
	h.SetSeed(docSeed)
	for i, f := range fields {
		h.Reset()
		_, _ = h.Write(f.Lit)
		for _, x := range f.Holes {
			_ = h.WriteByte(byte(x.Owner))
			_, _ = h.Write(x.Val)
			_ = h.WriteByte(0)
		}
		sums[i] = h.Sum64()
	}
	return sums
}

// pushDocsLocked sends the documents of sess, encoded as enc, to every edge
// holding a socket of either user, and the actor's state to the edge the
// request came through. An edge that takes no documents (an earlier
// release), and one a document cannot be queued to, gets each user's
// court:state instead, kept for retry (retry.go). It reports whether the
// actor's edge, one that builds acks from documents, was queued a document
// with the actor: then the actor's ack need not carry the state.
func (rt *sessions) pushDocsLocked(ctx context.Context, e *entry, sess *court.Session, enc *court.StateEncoder, o origin) (actorDoc bool) {
	fields := enc.Fields()
	sums := sumFields(fields)
	prev := e.docs
	var changed []int // nil: no delta is possible
	if prev.version != 0 && prev.version+1 == sess.Version && len(prev.sums) == len(sums) {
		changed = []int{}
		for i := range sums {
			if sums[i] != prev.sums[i] {
				changed = append(changed, i)
			}
		}
	}
	users := sess.Users()
	byEdge := make(map[string][]statedoc.User, 2)
	var edges []string               // in the order found, so sends are deterministic
	plain := map[string][]string{}   // user → edges that get their court:state
	reached := map[string][]string{} // user → edges that get their state either way
	for _, u := range users {
		found := rt.presenceLocked(ctx, e, u)
		if u == o.user && o.edge != "" && !slices.Contains(found, o.edge) {
			found = append(found, o.edge)
		}
		reached[u] = found
		for _, edge := range found {
			if !rt.cfg.Mesh.TakesStateDocs(edge) {
				plain[u] = append(plain[u], edge)
				continue
			}
			if _, ok := byEdge[edge]; !ok {
				edges = append(edges, edge)
			}
			byEdge[edge] = append(byEdge[edge], enc.DocUser(u))
		}
	}
	next := docs{version: sess.Version, sums: sums, sent: make(map[string]docSent, len(edges))}
	phase := enc.PhaseJSON()
	for _, edge := range edges {
		on := byEdge[edge]
		d := &statedoc.Doc{Count: len(fields), Sides: statedoc.SidesOf(on), Phase: phase, Users: on}
		gen := rt.gens.get(edge)
		was, ok := prev.sent[edge]
		delta := ok && changed != nil && was.version == prev.version && was.gen == gen && d.Sides&^was.sides == 0
		for i, f := range fields {
			if !delta || slices.Contains(changed, i) {
				d.Fields = append(d.Fields, statedoc.Indexed{Index: i, Field: statedoc.Visible(f, d.Sides)})
			}
		}
		if delta {
			d.Base = was.version
		}
		ev := &wire.Event{UserID: on[0].ID, Name: statedoc.EventName, Payload: statedoc.Append(nil, d),
			SessionID: sess.ID, Version: sess.Version}
		if err := rt.cfg.Mesh.SendEvent(edge, ev); err != nil {
			rt.log.Warn("push court:state document; sending each user's state", "edge", edge, "session", sess.ID, "err", err)
			for _, u := range on {
				plain[u.ID] = append(plain[u.ID], edge)
			}
			continue
		}
		rt.metrics.docBytes.WithLabelValues(docKind(d)).Add(float64(len(ev.Payload)))
		next.sent[edge] = docSent{version: sess.Version, gen: gen, sides: d.Sides}
		if edge == o.edge && slices.ContainsFunc(on, func(u statedoc.User) bool { return u.ID == o.user }) {
			actorDoc = rt.cfg.Mesh.TakesDocAcks(edge)
		}
	}
	e.docs = next
	// Each user's pending states are replaced: by this version where it
	// goes as a court:state, by nothing elsewhere (retry.go).
	// A user not yet located gets its court:state on every other edge
	// (publish.go).
	for _, u := range users {
		var others []string
		if !e.locatedLocked(u) {
			others = rt.otherEdges(reached[u])
		}
		ev := &wire.Event{UserID: u}
		if len(plain[u]) > 0 || len(others) > 0 {
			ev = &wire.Event{UserID: u, Name: protocol.State, Payload: enc.AppendState(nil, u), SessionID: sess.ID, Version: sess.Version}
		}
		rt.publishState(plain[u], ev)
		rt.fanOut(ev, others)
	}
	return actorDoc
}

// docKind labels a document for the metrics: full or delta.
func docKind(d *statedoc.Doc) string {
	if d.Base == 0 {
		return "full"
	}
	return "delta"
}
