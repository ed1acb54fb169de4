package home

import (
	"sync"
	"time"

	"courtmesh/mesh/wire"
)

// answerTTL is how long a home remembers the outcome of an action for
// retries of it: longer than an edge retries one action (its request
// timeout and backoff), and longer than the CLOSED hold, so the retry of a
// session's last action is still recognised while the session is held.
const answerTTL = time.Minute

// outcomeKind is what an action's answer was.
type outcomeKind uint8

const (
	// outcomeState acked {"ok":true,"state":...}: the caller's view of
	// the session (IDLE when sessionID is empty).
	outcomeState outcomeKind = iota
	// outcomeOK acked {"ok":true} (court:dismiss).
	outcomeOK
	// outcomeRefused acked {"ok":false,"error":msg}.
	outcomeRefused
)

// outcome is what a home remembers of one answered action: not the
// answer (a state of 20–46 KiB) but what rebuilds it, a few dozen bytes.
type outcome struct {
	kind      outcomeKind
	sessionID string
	version   uint64
	msg       string // outcomeRefused only
	at        time.Time
}

// outcomeOf reduces resp, the answer of a request whose result is OK or
// rejected, to its outcome.
func outcomeOf(resp *wire.Response, refusal string, at time.Time) outcome {
	switch {
	case refusal != "":
		return outcome{kind: outcomeRefused, msg: refusal, at: at}
	case resp.SessionID == "" && string(resp.Ack) == string(ackOK().Ack):
		return outcome{kind: outcomeOK, at: at}
	}
	return outcome{kind: outcomeState, sessionID: resp.SessionID, version: resp.Version, at: at}
}

// answers remembers, for answerTTL, the outcome of each action by its
// request id, so that an edge retrying an action whose answer it lost (a
// link broke, a request timed out) gets the same answer instead of a second
// application or a confusing refusal (court-protocol.md §6, L5). The answer
// is rebuilt from the outcome: the refusal's text, or the caller's view of
// the session, which is the very state first answered while the session is
// at that version and its newer state once the partner acted
// (docs/decisions.md, "Retries remember outcomes, not answers").
//
// It is bounded by time, not by a count: an outcome older than answerTTL
// is dropped at the next put, oldest first, so it holds at most what the
// node answered in the last answerTTL. It lives in one node's memory: a
// retry that reaches another node after a failover is refused by the state
// machine's guards instead.
type answers struct {
	mu    sync.Mutex
	byID  map[string]outcome // guarded by mu
	order []string           // request ids oldest first, from head; guarded by mu
	head  int                // guarded by mu
	now   func() time.Time
}

func newAnswers(now func() time.Time) *answers {
	return &answers{byID: make(map[string]outcome), now: now}
}

// get returns the remembered outcome of request id.
func (a *answers) get(id string) (outcome, bool) {
	if id == "" {
		return outcome{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.byID[id]
	if !ok || a.now().Sub(o.at) >= answerTTL {
		return outcome{}, false
	}
	return o, true
}

// put remembers o as the outcome of id, unless one is remembered already:
// the first answer of an action is its answer. It returns the remembered
// outcome and whether it is o.
func (a *answers) put(id string, o outcome) (outcome, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire()
	if first, ok := a.byID[id]; ok {
		return first, false
	}
	a.byID[id] = o
	a.order = append(a.order, id)
	return o, true
}

// len is the number of outcomes remembered.
func (a *answers) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.byID)
}

// expire drops the outcomes older than answerTTL. Lock held on entry.
func (a *answers) expire() {
	now := a.now()
	for a.head < len(a.order) {
		id := a.order[a.head]
		if o, ok := a.byID[id]; ok && now.Sub(o.at) < answerTTL {
			break
		}
		delete(a.byID, id)
		a.order[a.head] = ""
		a.head++
	}
	// Compact once the dropped head is half the slice: amortised O(1) a
	// put, and the array does not keep the ids of a past burst.
	if a.head > 0 && a.head >= len(a.order)/2 {
		a.order = append(make([]string, 0, 2*(len(a.order)-a.head)+16), a.order[a.head:]...)
		a.head = 0
	}
}
