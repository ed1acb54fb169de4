package home

import (
	"sync"
	"time"

	"courtmesh/mesh/wire"
)

// Bounds of the answer cache.
const (
	answerTTL      = time.Minute
	maxAnswers     = 20000
	answersPruneAt = maxAnswers / 2
)

// answers remembers, for a minute, the response to each action by its
// request id, so that an edge retrying an action whose answer it lost (a
// link broke, a request timed out) gets the same answer instead of a second
// application or a confusing refusal (court-protocol.md §6, L5). It lives in
// one node's memory: a retry that reaches another node after a failover is
// refused by the state machine's guards instead.
type answers struct {
	mu   sync.Mutex
	byID map[string]answer // guarded by mu
}

type answer struct {
	resp *wire.Response
	at   time.Time
}

func newAnswers() *answers { return &answers{byID: make(map[string]answer)} }

// get returns the remembered response to request id, or nil.
func (a *answers) get(id string) *wire.Response {
	if id == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.byID[id]; ok && time.Since(r.at) < answerTTL {
		return r.resp
	}
	return nil
}

// put remembers resp as the answer to id, unless an answer is remembered
// already: the first answer of an action is its answer.
func (a *answers) put(id string, resp *wire.Response) {
	if id == "" || resp == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.byID[id]; ok {
		return
	}
	if len(a.byID) >= answersPruneAt {
		a.prune()
	}
	if len(a.byID) < maxAnswers {
		a.byID[id] = answer{resp: resp, at: time.Now()}
	}
}

// prune drops the answers older than answerTTL. Lock held on entry.
func (a *answers) prune() {
	for id, r := range a.byID {
		if time.Since(r.at) >= answerTTL {
			delete(a.byID, id)
		}
	}
}
