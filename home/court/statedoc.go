package court

import "courtmesh/mesh/statedoc"

// The court:state documents an edge rebuilds each user's court:state from
// (package statedoc): the same encoding as AppendState, cut into the
// session's fields.

// Fields returns the encoded session cut into its fields, each hole with
// its value; nil for the IDLE state, which has no session.
func (e *StateEncoder) Fields() []statedoc.Field {
	if e.sess == nil {
		return nil
	}
	out := make([]statedoc.Field, len(e.marks))
	for i, m := range e.marks {
		end := mark{len(e.session), len(e.holes)}
		if i+1 < len(e.marks) {
			end = e.marks[i+1]
		}
		f := statedoc.Field{Lit: e.session[m.at:end.at:end.at]}
		if end.hole > m.hole {
			f.Holes = make([]statedoc.Hole, 0, end.hole-m.hole)
			for _, h := range e.holes[m.hole:end.hole] {
				f.Holes = append(f.Holes, statedoc.Hole{At: h.at - m.at, Owner: docSide(h.owner), Val: h.val})
			}
		}
		out[i] = f
	}
	return out
}

// PhaseJSON is the phase of the state, a JSON string.
func (e *StateEncoder) PhaseJSON() []byte {
	if e.sess == nil {
		return appendString(nil, string(PhaseIdle))
	}
	return appendString(nil, string(e.sess.Phase))
}

// DocUser is userID as a document names it: their side and view phase.
func (e *StateEncoder) DocUser(userID string) statedoc.User {
	if e.sess == nil {
		return statedoc.User{ID: userID, View: appendString(nil, ViewIdle)}
	}
	return statedoc.User{ID: userID, Side: docSide(sideOf(e.sess, userID)), View: appendString(nil, ViewPhase(e.sess, userID))}
}

func docSide(s side) statedoc.Side {
	if s == creatorSide {
		return statedoc.Creator
	}
	return statedoc.Partner
}
