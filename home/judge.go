package home

import (
	"context"
	"encoding/json"
	"errors"

	"courtmesh/home/court"
	"courtmesh/home/judge"
)

// callJudge makes a judge call in a tracked goroutine. Its result is applied
// only if the session is still owned here and still awaits that call (the
// court package checks the call's version): a late result after a dismiss,
// a timeout or a newer call changes nothing (R8, R10).
func (rt *sessions) callJudge(sessionID string, call court.JudgeCall) {
	rt.spawn(func(ctx context.Context) {
		snap := rt.snapshot(sessionID)
		if snap == nil {
			return
		}
		var apply func(*court.Session) error
		switch call.Kind {
		case court.JudgeDeliberate:
			apply = rt.deliberate(ctx, snap, call.Version)
		case court.JudgeHybrid:
			apply = rt.hybrid(ctx, snap, call.Version)
		default:
			rt.log.Error("unknown judge call", "kind", call.Kind, "session", sessionID)
			return
		}
		rt.applyResult(ctx, sessionID, judgeOrigin(call.Kind), apply)
		if call.Kind == court.JudgeDeliberate {
			// A deliberation may have counted usage: the couple's next
			// serve here reads it afresh.
			rt.cfg.App.Invalidate(snap.CreatorID, snap.PartnerID)
		}
	})
}

// deliberate runs phase 1 and phase 2 and returns the transition that
// applies the outcome: PRIMING, or an error verdict.
func (rt *sessions) deliberate(ctx context.Context, snap *court.Session, version uint64) func(*court.Session) error {
	if msg := rt.usageBeforeVerdict(ctx, snap); msg != "" {
		return func(x *court.Session) error { return x.FailDeliberation(version, msg, rt.now(), rt.durations) }
	}
	start := rt.now()
	d, err := judge.Deliberate(ctx, rt.cfg.Judge, judgeCase(snap, version))
	rt.metrics.judgeSeconds.WithLabelValues(string(court.JudgeDeliberate)).Observe(rt.now().Sub(start).Seconds())
	if err != nil {
		rt.log.Warn("judge deliberation failed", "session", snap.ID, "err", err)
		msg := judge.VerdictError(err)
		return func(x *court.Session) error { return x.FailDeliberation(version, msg, rt.now(), rt.durations) }
	}
	return func(x *court.Session) error { return x.ApplyDeliberation(version, d, rt.now(), rt.durations) }
}

// hybrid asks for the hybrid resolution of a mismatch and returns the
// transition that applies it (or clears the pending flag on failure).
func (rt *sessions) hybrid(ctx context.Context, snap *court.Session, version uint64) func(*court.Session) error {
	fail := func(x *court.Session) error { return x.FailHybrid(version) }
	req, ok := hybridRequest(snap, version)
	if !ok {
		return fail
	}
	start := rt.now()
	res, err := rt.cfg.Judge.Hybrid(ctx, req)
	rt.metrics.judgeSeconds.WithLabelValues(string(court.JudgeHybrid)).Observe(rt.now().Sub(start).Seconds())
	if err != nil {
		rt.log.Warn("judge hybrid failed", "session", snap.ID, "err", err)
		return fail
	}
	raw, err := json.Marshal(res.Hybrid.Resolution(req.PickA.ID, req.PickB.ID))
	if err != nil {
		return fail
	}
	return func(x *court.Session) error { return x.ApplyHybrid(version, raw) }
}

// applyResult commits a judge result as a transition of its own.
func (rt *sessions) applyResult(ctx context.Context, sessionID string, o origin, fn func(*court.Session) error) {
	e := rt.reg.session(sessionID)
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return
	}
	if _, _, err := rt.commitLocked(ctx, e, o, fn); err != nil && !errors.Is(err, court.ErrStaleResult) {
		rt.log.Warn("judge result not applied", "session", sessionID, "err", err)
	}
}

// snapshot returns the committed state of a held session, or nil.
func (rt *sessions) snapshot(sessionID string) *court.Session {
	e := rt.reg.session(sessionID)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil
	}
	return e.sess
}

// judgeCase is the judge's view of a session: both parties' evidence and the
// addenda.
func judgeCase(s *court.Session, version uint64) judge.Case {
	party := func(id string, u court.UserState) judge.Party {
		return judge.Party{UserID: id, Evidence: deref(u.Evidence), Feelings: deref(u.Feelings), Needs: deref(u.Needs)}
	}
	c := judge.Case{
		SessionID: s.ID, Version: version, JudgeType: s.JudgeType, Language: s.CaseLanguage,
		Creator: party(s.CreatorID, s.Creator), Partner: party(s.PartnerID, s.Partner),
	}
	for _, a := range s.AddendumHistory {
		c.Addenda = append(c.Addenda, judge.Addendum{From: a.FromUser, Text: a.Text})
	}
	return c
}

// hybridRequest builds the hybrid call from the mismatch's original picks.
func hybridRequest(s *court.Session, version uint64) (judge.HybridRequest, bool) {
	if s.MismatchOriginal == nil || s.MismatchOriginal.UserA == nil || s.MismatchOriginal.UserB == nil {
		return judge.HybridRequest{}, false
	}
	var a, b judge.Resolution
	if json.Unmarshal(s.FindResolution(*s.MismatchOriginal.UserA), &a) != nil ||
		json.Unmarshal(s.FindResolution(*s.MismatchOriginal.UserB), &b) != nil {
		return judge.HybridRequest{}, false
	}
	return judge.HybridRequest{SessionID: s.ID, Version: version, Language: s.CaseLanguage,
		Analysis: s.Analysis, PickA: a, PickB: b}, true
}
