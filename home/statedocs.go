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
// user of a side whose private parts it lacks; an edge that finds a delta
// it cannot apply reads the state again (its resync). IDLE, the state of
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
// request came through. A document that cannot be queued is kept for retry
// as each user's court:state (retry.go).
func (rt *sessions) pushDocsLocked(ctx context.Context, e *entry, sess *court.Session, enc *court.StateEncoder, o origin) {
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
	byEdge := make(map[string][]statedoc.User, 2)
	var edges []string // in the order found, so sends are deterministic
	for _, u := range sess.Users() {
		found, err := rt.cfg.Directory.Presence(ctx, u)
		if err != nil {
			rt.log.Warn("presence lookup failed", "user", u, "err", err)
		}
		if u == o.user && o.edge != "" && !slices.Contains(found, o.edge) {
			found = append(found, o.edge)
		}
		for _, edge := range found {
			if _, ok := byEdge[edge]; !ok {
				edges = append(edges, edge)
			}
			byEdge[edge] = append(byEdge[edge], enc.DocUser(u))
		}
	}
	next := docs{version: sess.Version, sums: sums, sent: make(map[string]docSent, len(edges))}
	failed := make(map[string][]string, 2) // user → edges
	phase := enc.PhaseJSON()
	for _, edge := range edges {
		users := byEdge[edge]
		d := &statedoc.Doc{Count: len(fields), Sides: statedoc.SidesOf(users), Phase: phase, Users: users}
		gen := rt.gens.get(edge)
		if was, ok := prev.sent[edge]; ok && changed != nil && was.version == prev.version && was.gen == gen &&
			d.Sides&^was.sides == 0 {
			d.Base = was.version
			for _, i := range changed {
				d.Fields = append(d.Fields, statedoc.Indexed{Index: i, Field: statedoc.Visible(fields[i], d.Sides)})
			}
		} else {
			for i, f := range fields {
				d.Fields = append(d.Fields, statedoc.Indexed{Index: i, Field: statedoc.Visible(f, d.Sides)})
			}
		}
		ev := &wire.Event{UserID: users[0].ID, Name: statedoc.EventName, Payload: statedoc.Append(nil, d),
			SessionID: sess.ID, Version: sess.Version}
		if err := rt.cfg.Mesh.SendEvent(edge, ev); err != nil {
			rt.log.Warn("push court:state document; kept for retry", "edge", edge, "session", sess.ID, "err", err)
			for _, u := range users {
				failed[u.ID] = append(failed[u.ID], edge)
			}
			continue
		}
		rt.metrics.docBytes.WithLabelValues(docKind(d)).Add(float64(len(ev.Payload)))
		next.sent[edge] = docSent{version: sess.Version, gen: gen, sides: d.Sides}
	}
	e.docs = next
	// Each user's pending states are replaced: by this version where it
	// could not be queued, by nothing elsewhere (retry.go).
	for _, u := range sess.Users() {
		ev := &wire.Event{UserID: u}
		if len(failed[u]) > 0 {
			ev = &wire.Event{UserID: u, Name: protocol.State, Payload: enc.AppendState(nil, u), SessionID: sess.ID, Version: sess.Version}
		}
		rt.retries.publish(failed[u], ev, rt.now(), func(edge string, err error) {})
	}
}

// docKind labels a document for the metrics: full or delta.
func docKind(d *statedoc.Doc) string {
	if d.Base == 0 {
		return "full"
	}
	return "delta"
}
