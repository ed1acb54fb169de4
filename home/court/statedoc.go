package court

import "courtmesh/mesh/statedoc"

// The court:state documents an edge rebuilds each user's court:state from
// (package statedoc): the same encoding as AppendState, cut into the
// session's fields.

// Fields returns the encoded session cut into its fields, each hole with
// its value; nil for the IDLE state, which has no session. The fields share
// e's memory and the session's: the caller does not change them.
func (e *StateEncoder) Fields() []statedoc.Field { return e.fields }

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
