package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// groupWriteTimeout bounds the write of one group once it is sent. A group
// runs to its end even if the callers that joined it went away: a write
// cancelled in flight has an unknown outcome for every commit in it.
const groupWriteTimeout = 5 * time.Second

// committer writes Commits in groups: one transaction, one round trip and
// one WAL flush for every commit that arrived while all its slots were
// writing. A commit that finds a free slot is written at once, alone;
// nothing waits to fill a group. The caller that writes a group (the
// leader) hands the next one, everything queued meanwhile, to the caller of
// the first commit queued, with its slot, so a group costs no goroutine of
// its own.
//
// Each commit keeps its own fence. A group is one implicit transaction, so
// the first statement that fails rolls all of it back: the commit it belongs
// to gets that error, as it would have alone (the fence's ErrFenced, say),
// and the others, of which nothing was written, are written again as the
// next round's group. A failure no commit caused (a deadlock or a
// serialization failure, an error at the commit) writes each of them again
// alone; a failure of unknown outcome (the connection broke) is every
// commit's. The rounds end: each one settles at least one commit.
type committer struct {
	db DB

	mu      sync.Mutex
	queued  []*pendingCommit
	slots   int // groups written at once, at most
	writing int // leaders writing a group now
}

// pendingCommit is one Commit's statements on their way to Postgres.
type pendingCommit struct {
	ctx       context.Context
	sessionID string
	batch     *pgx.Batch
	err       error
	// turn, made when the commit is queued, receives its outcome or the
	// group its caller writes next; buffered, so that the leader never waits
	// for a caller.
	turn chan groupTurn
}

// groupTurn is what a queued commit's caller is handed: its outcome, or a
// group to write as the leader (lead non-nil).
type groupTurn struct {
	err  error
	lead []*pendingCommit
}

// write writes p, in a group with the commits queued beside it, and returns
// its outcome. A caller whose commit is queued waits for it unconditionally:
// the group it is in may already be in flight.
func (c *committer) write(p *pendingCommit) error {
	group := []*pendingCommit{p}
	c.mu.Lock()
	if c.writing == c.slots {
		p.turn = make(chan groupTurn, 1)
		c.queued = append(c.queued, p)
		c.mu.Unlock()
		t := <-p.turn
		if t.lead == nil {
			return t.err
		}
		group = t.lead
	} else {
		c.writing++
		c.mu.Unlock()
	}
	c.settle(group)
	c.mu.Lock()
	next := c.queued
	c.queued = nil
	if len(next) == 0 {
		c.writing--
	}
	c.mu.Unlock()
	if len(next) > 0 {
		next[0].turn <- groupTurn{lead: next}
	}
	for _, m := range group {
		if m != p {
			m.turn <- groupTurn{err: m.err}
		}
	}
	return p.err
}

// settle writes group, in rounds, until every commit in it has an outcome
// in its err. Commits of one session are written in separate rounds, in
// the order they came, so that one's fence never sees the other's write in
// a transaction that is then rolled back.
func (c *committer) settle(group []*pendingCommit) {
	todo := make([]*pendingCommit, 0, len(group))
	for _, m := range group {
		if err := m.ctx.Err(); err != nil {
			m.err = err // nothing sent: the caller gave up first
			continue
		}
		todo = append(todo, m)
	}
	for len(todo) > 0 {
		round, later := splitBySession(todo)
		retry := c.writeRound(round)
		todo = append(retry, later...)
	}
}

// splitBySession returns the first commit of each session in todo, sorted
// by session id (the order in which FenceMany locks rows, so that a group
// and a failover's fence cannot deadlock), and the rest in their order.
func splitBySession(todo []*pendingCommit) (round, later []*pendingCommit) {
	if len(todo) == 1 { // a lone commit, the usual case below saturation
		return todo, nil
	}
	seen := make(map[string]bool, len(todo))
	for _, m := range todo {
		if seen[m.sessionID] {
			later = append(later, m)
			continue
		}
		seen[m.sessionID] = true
		round = append(round, m)
	}
	slices.SortFunc(round, func(a, b *pendingCommit) int { return strings.Compare(a.sessionID, b.sessionID) })
	return round, later
}

// writeRound writes round as one transaction. It sets the outcome of the
// commits it settles and returns those to write again: every one but the
// commit whose statement failed, or, when no commit caused the failure,
// none (each is written again alone here).
func (c *committer) writeRound(round []*pendingCommit) (retry []*pendingCommit) {
	if len(round) == 1 {
		round[0].sendAlone(c.db)
		return nil
	}
	n := 0
	for _, m := range round {
		n += m.batch.Len()
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, n)}
	for _, m := range round {
		b.QueuedQueries = appendFresh(b.QueuedQueries, m.batch)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(round[0].ctx), groupWriteTimeout)
	defer cancel()
	res := sendBatch(ctx, c.db, b)
	var pgErr *pgconn.PgError
	switch {
	case res.err == nil:
		return nil // every err stays nil
	case !errors.As(res.err, &pgErr):
		for _, m := range round { // unknown outcome, for all of them
			m.err = res.err
		}
		return nil
	case res.failed < 0 || strings.HasPrefix(pgErr.Code, classTransactionRollback):
		for _, m := range round { // rolled back, by no commit in particular
			m.sendAlone(c.db)
		}
		return nil
	}
	at := res.failed
	for _, m := range round {
		n := m.batch.Len()
		if at >= 0 && at < n {
			m.err = mapWriteErr(res.err)
		} else {
			retry = append(retry, m)
		}
		at -= n
	}
	return retry
}

// sendAlone writes m as a transaction of its own, the last time m is sent:
// its batch itself goes, never sent before (a group sends copies).
func (m *pendingCommit) sendAlone(db DB) {
	m.err = mapWriteErr(sendBatch(m.ctx, db, m.batch).err)
}

// appendFresh appends copies of b's statements, for a group: pgx keeps on a
// sent statement the prepared statement of the connection it went through,
// which another connection of the pool does not have, and a commit of a
// group that is rolled back is sent again, perhaps on another connection.
func appendFresh(qs []*pgx.QueuedQuery, b *pgx.Batch) []*pgx.QueuedQuery {
	for _, q := range b.QueuedQueries {
		qs = append(qs, &pgx.QueuedQuery{SQL: q.SQL, Arguments: q.Arguments})
	}
	return qs
}

// classTransactionRollback is the SQLSTATE class of a deadlock and a
// serialization failure: the transaction, not one statement, failed.
const classTransactionRollback = "40"

// sent is the outcome of one transaction: err, and failed, the index of the
// statement that failed (-1 if none did, or the failure came at the commit).
type sent struct {
	err    error
	failed int
}

// sendBatch sends b as one pipeline, which Postgres runs as one implicit
// transaction: the first failing statement rolls back all of it.
func sendBatch(ctx context.Context, db DB, b *pgx.Batch) sent {
	br := db.SendBatch(ctx, b)
	res := sent{failed: -1}
	for i := range b.Len() {
		if _, res.err = br.Exec(); res.err != nil {
			res.failed = i
			break
		}
	}
	if cerr := br.Close(); res.err == nil {
		res.err = cerr
	}
	return res
}
