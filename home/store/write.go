package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"courtmesh/home/court"
	"courtmesh/protocol"
)

// Create is a new session to insert (court-protocol.md T1).
type Create struct {
	// Session is the new session, version 1 as court.NewSession makes it.
	Session *court.Session
	// Epoch is the creating node's owner epoch for the session.
	Epoch uint64
	// Node is the creating node's id; HomeRegion the session's home region.
	Node, HomeRegion string
	// Event names the transition in the history, e.g. "serve".
	Event string
	// Effects are the creation's effects; Notify and MemoryJob become outbox
	// rows, the others are ignored.
	Effects []court.Effect
}

// Commit is a transition of a stored session.
type Commit struct {
	// Prev is the session version the transition started from.
	Prev uint64
	// Session is the new state; its Version is greater than Prev.
	Session *court.Session
	// PrevSession, if set, is the session at version Prev as committed: the
	// big columns whose values did not change since are not written again.
	// Nil writes every column.
	PrevSession *court.Session
	// Epoch is the committing owner's epoch.
	Epoch uint64
	// Node is the committing node's id; Event names the transition.
	Node, Event string
	// Effects are the transition's effects: SaveCase writes the case and
	// verdict rows, Notify and MemoryJob outbox rows; JudgeCall and Emit are
	// the caller's to act on after the commit and are ignored here.
	Effects []court.Effect
}

// Postgres error codes the store maps to its errors.
const (
	codeFenced          = "CM001" // raised by court_fence
	codeUniqueViolation = "23505"
	usersPkey           = "court_session_users_pkey"
)

const (
	claimUsersSQL = `INSERT INTO court_session_users (user_id, session_id)
		SELECT u, $2 FROM unnest($1::text[]) AS u`
	releaseUsersSQL = `DELETE FROM court_session_users WHERE session_id = $1`
	insertOutboxSQL = `INSERT INTO court_outbox (session_id, kind, payload)
		SELECT $1, k, p::jsonb FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS o(k, p, n) ORDER BY n`
)

// Create inserts a new session, claims both its users (ErrUserBusy if either
// is in a live session: of two crossed serves exactly one wins), and writes
// its transition and outbox rows, in one transaction.
func (s *Store) Create(ctx context.Context, c Create) error {
	sess := c.Session
	if err := checkSession(sess); err != nil {
		return err
	}
	p, err := planEffects(sess.ID, c.Effects)
	if err != nil {
		return err
	}
	cols, err := sessionCols(sess, rowState{caseID: sess.CaseID})
	if err != nil {
		return err
	}
	users := []string{sess.CreatorID, sess.PartnerID}
	slices.Sort(users) // one lock order for every claim: crossed serves cannot deadlock
	b := &pgx.Batch{}
	args := appendValues(append(make([]any, 0, 3+len(cols)+4), sess.ID, int64(c.Epoch), c.HomeRegion), cols, allGroups)
	b.Queue(insertSessionSQL, append(args, historyArgs(sess, c.Node, c.Event)...)...)
	b.Queue(claimUsersSQL, users, sess.ID)
	queueAfter(b, sess.ID, p)
	err = s.run(ctx, b)
	if errors.Is(err, ErrUserBusy) {
		return ErrUserBusy
	}
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", sess.ID, err)
	}
	return nil
}

// Commit writes a transition of a session, in one transaction, only if the
// row is still at (c.Epoch, c.Prev) and not ended; otherwise it returns
// ErrFenced and writes nothing. With the state it writes the SaveCase rows,
// the transition row and the outbox rows. A session that ended without a
// case (toss, cancel, dismiss, settle: court.EndReason other than
// EndRemoved) has its row deleted, claims included, by a fenced DELETE; an
// ended session with a case (the CLOSED hold ran out, or a CLOSED session
// dismissed) keeps its row, as CLOSED with ended_at set, and releases its
// users. A kept row refuses every later write and fence.
//
// Commits of other sessions made meanwhile may share its transaction (a
// group, group.go); what another commit of the group does never changes
// this one's outcome, unless the group's outcome is unknown.
//
// An error other than ErrFenced leaves the outcome unknown (say the
// connection broke after the commit was sent). Retrying the same Commit is
// safe: if the first one went through, the retry is refused with ErrFenced.
func (s *Store) Commit(ctx context.Context, c Commit) error {
	sess := c.Session
	if err := checkSession(sess); err != nil {
		return err
	}
	if sess.Version <= c.Prev {
		return fmt.Errorf("store: commit session %s: version %d not after %d", sess.ID, sess.Version, c.Prev)
	}
	p, err := planEffects(sess.ID, c.Effects)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	if err := queueFenced(b, sess, c, p); err != nil {
		return err
	}
	queueAfter(b, sess.ID, p)
	err = s.commits.write(&pendingCommit{ctx: ctx, sessionID: sess.ID, batch: b})
	if errors.Is(err, ErrFenced) {
		s.log.Info("commit refused by the fence", "session_id", sess.ID, "epoch", c.Epoch, "prev", c.Prev, "event", c.Event)
		return ErrFenced
	}
	if err != nil {
		return fmt.Errorf("store: commit session %s v%d: %w", sess.ID, sess.Version, err)
	}
	return nil
}

// queueFenced queues the fenced statement that must come first, which also
// writes the transition row: the UPDATE of the columns that changed since
// c.PrevSession (every column without it), or for a session that ends
// without a case the DELETE of its row; then what an ended row that is kept
// needs.
func queueFenced(b *pgx.Batch, sess *court.Session, c Commit, p plan) error {
	fence := append([]any{sess.ID, int64(c.Epoch), int64(c.Prev)}, historyArgs(sess, c.Node, c.Event)...)
	caseID := sess.CaseID
	if p.saveCase != nil {
		caseID = &p.saveCase.CaseID
	}
	if sess.Ended() && caseID == nil && sess.EndReason != court.EndRemoved {
		b.Queue(deleteFencedSQL, fence...)
		return nil
	}
	st := rowState{caseID: caseID}
	if sess.Ended() {
		now := time.Now().UTC()
		st.endedAt = &now
	}
	cols, err := sessionCols(sess, st)
	if err != nil {
		return err
	}
	groups := allGroups
	if prev := c.PrevSession; prev != nil && prev.ID == sess.ID && prev.Version == c.Prev {
		groups = changedGroups(prev, sess)
	}
	b.Queue(updateSessionSQL[groups], append(appendValues(make([]any, 0, len(cols)+len(fence)), cols, groups), fence...)...)
	if p.saveCase != nil {
		queueCase(b, p.saveCase.CaseID, court.CaseRow(sess))
	}
	if sess.Ended() {
		b.Queue(releaseUsersSQL, sess.ID)
	}
	return nil
}

// historyArgs are the arguments of a write's transition row that its fence
// arguments do not hold: the version, phase, node and event.
func historyArgs(sess *court.Session, node, event string) []any {
	return []any{int64(sess.Version), string(sess.Phase), node, event}
}

// queueAfter queues the outbox rows, all in one statement, and the usage
// counts.
func queueAfter(b *pgx.Batch, sessionID string, p plan) {
	if len(p.outbox) > 0 {
		kinds, payloads := make([]string, len(p.outbox)), make([]string, len(p.outbox))
		for i, r := range p.outbox {
			kinds[i], payloads[i] = r.kind, r.payload
		}
		b.Queue(insertOutboxSQL, sessionID, kinds, payloads)
	}
	for _, st := range p.usage {
		b.Queue(st.SQL, st.Args...)
	}
}

// queueCase queues the cases row and its verdicts rows.
func queueCase(b *pgx.Batch, id string, c court.CaseRecord) {
	b.Queue(`INSERT INTO cases (id, user_a_id, user_b_id, user_a_input, user_a_feelings, user_a_needs,
			user_b_input, user_b_feelings, user_b_needs, status, case_language,
			case_title, severity_level, primary_hiss_tag, short_resolution)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		id, c.UserAID, c.UserBID, c.UserAInput, c.UserAFeelings, c.UserANeeds,
		c.UserBInput, c.UserBFeelings, c.UserBNeeds, c.Status, c.CaseLanguage,
		c.CaseTitle, c.SeverityLevel, c.PrimaryHissTag, c.ShortResolution)
	for _, v := range c.Verdicts {
		b.Queue(`INSERT INTO verdicts (case_id, version, content, addendum_by, addendum_text)
			VALUES ($1, $2, $3, $4, $5)`, id, v.Version, jsonOrNil(v.Content), v.AddendumBy, v.AddendumText)
	}
}

// run writes b as one transaction, alone, and maps the fence and the user
// claim to ErrFenced and ErrUserBusy.
func (s *Store) run(ctx context.Context, b *pgx.Batch) error {
	return mapWriteErr(sendBatch(ctx, s.db, b).err)
}

// mapWriteErr maps a write's error to ErrFenced and ErrUserBusy.
func mapWriteErr(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr) && pgErr.Code == codeFenced:
		return ErrFenced
	case errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == usersPkey:
		return ErrUserBusy
	}
	return err
}

// checkSession checks what the store needs of a session to write it.
func checkSession(s *court.Session) error {
	switch {
	case s == nil:
		return errors.New("store: nil session")
	case !protocol.IsUUID(s.ID):
		return fmt.Errorf("store: session id %q is not a uuid", s.ID)
	case s.Version == 0:
		return fmt.Errorf("store: session %s has version 0", s.ID)
	}
	return nil
}
