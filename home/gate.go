package home

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"courtmesh/appdata"
	"courtmesh/home/court"
	"courtmesh/home/screen"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// The app's checks before an action (court-protocol.md §2.5, §4.6, §5), in
// the app's order, on the socket and the REST path alike (the edge sends
// both the same request): what the app's data says comes from Config.App
// (package appdata), the rules from package court, sanitising and the
// injection/abuse check from package screen.

// payloadEvents take a payload object; an explicit null is refused like any
// other non-object (the app's handlers throw on it), while an absent
// payload keeps the R1 behaviour.
var payloadEvents = map[string]bool{protocol.Serve: true, protocol.SubmitEvidence: true, protocol.SubmitAddendum: true,
	protocol.ResolutionPick: true, protocol.ResolutionHybrid: true}

// gate checks req before its handler and returns the request the handler
// sees, with sanitised text. A refusal is a *court.Error or a
// *screenRefusal.
func (rt *sessions) gate(ctx context.Context, req *wire.Request) (*wire.Request, error) {
	if payloadEvents[req.Event] && string(req.Payload) == "null" {
		return nil, errInvalidPayload
	}
	switch req.Event {
	case protocol.SubmitEvidence:
		var p struct {
			Evidence, Feelings, Needs string
		}
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		if err := rt.consent(ctx, req.UserID); err != nil {
			return nil, err
		}
		p.Evidence = screen.Sanitize(p.Evidence, court.LimitEvidence)
		p.Feelings = screen.Sanitize(p.Feelings, court.LimitFeelings)
		p.Needs = screen.Sanitize(p.Needs, court.LimitNeeds)
		if err := rt.screen(ctx, req, screen.SurfaceEvidence, map[string]string{"evidence": p.Evidence, "feelings": p.Feelings, "needs": p.Needs}); err != nil {
			return nil, err
		}
		return withPayload(req, map[string]string{"evidence": p.Evidence, "feelings": p.Feelings, "needs": p.Needs})
	case protocol.SubmitAddendum:
		var p struct {
			Text           string
			ChallengeToken string `json:"challengeToken"`
		}
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		if err := rt.consent(ctx, req.UserID); err != nil {
			return nil, err
		}
		p.Text = screen.Sanitize(p.Text, court.LimitAddendum)
		if err := rt.screenToken(ctx, req, screen.SurfaceAddendum, map[string]string{"text": p.Text}, p.ChallengeToken); err != nil {
			return nil, err
		}
		return withPayload(req, map[string]string{"text": p.Text})
	case protocol.ResolutionHybrid:
		var p struct {
			ChallengeToken string `json:"challengeToken"`
		}
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		if err := rt.screenToken(ctx, req, screen.SurfaceHybrid, rt.hybridFields(ctx, req.UserID), p.ChallengeToken); err != nil {
			return nil, err
		}
		return req, rt.consent(ctx, req.UserID)
	}
	return req, nil
}

// hybridFields are what the abuse check of court:resolution_hybrid sees
// (court-protocol.md §2.5): the phase and case id of the caller's session,
// read under its lock and released at once; empty when the caller has none
// here (the handler then answers as usual).
func (rt *sessions) hybridFields(ctx context.Context, userID string) map[string]string {
	fields := map[string]string{"phase": "", "caseId": ""}
	e, err := rt.lockUser(ctx, userID)
	if err != nil || e == nil {
		return fields
	}
	fields["phase"] = string(e.sess.Phase)
	if e.sess.CaseID != nil {
		fields["caseId"] = *e.sess.CaseID
	}
	e.mu.Unlock()
	return fields
}

// withPayload returns a copy of req carrying payload.
func withPayload(req *wire.Request, payload any) (*wire.Request, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	out := *req
	out.Payload = raw
	return &out, nil
}

// account reads what the checks need of userID's profile.
func (rt *sessions) account(ctx context.Context, userID string) (court.Account, error) {
	p, err := rt.cfg.App.Profile(ctx, userID)
	if err != nil {
		return court.Account{}, err
	}
	return court.Account{PartnerID: p.PartnerID, AIConsent: p.AIConsent, Tier: p.EffectiveTier(rt.now()), Language: p.Language}, nil
}

// consent is the AI consent check of evidence, addendum and hybrid.
func (rt *sessions) consent(ctx context.Context, userID string) error {
	a, err := rt.account(ctx, userID)
	if err != nil {
		return err
	}
	return court.CheckConsent(a)
}

// serveChecks is what the serve checks decided for the new session.
type serveChecks struct {
	creatorLang, partnerLang, caseLang string
}

// apply sets what the checks decided on the new session.
func (c serveChecks) apply(sess *court.Session) {
	sess.SetLanguages(c.creatorLang, c.partnerLang, c.caseLang)
}

// checkServe runs the serve checks in the app's order: the abuse check,
// partnerId required, the partner check against profiles.partner_id (with
// the app's data), the couple id, and the couple's usage this month for the
// judge type (cached reads: docs/decisions.md); then the languages.
func (rt *sessions) checkServe(ctx context.Context, req *wire.Request, p servePayload) (serveChecks, error) {
	fields := map[string]string{"partnerId": p.PartnerID, "coupleId": deref(p.CoupleID), "judgeType": court.JudgeTypeOf(p.JudgeType)}
	if err := rt.screenToken(ctx, req, screen.SurfaceServe, fields, p.ChallengeToken); err != nil {
		return serveChecks{}, err
	}
	creator, err := rt.account(ctx, req.UserID)
	if err != nil {
		return serveChecks{}, err
	}
	if _, err := court.CheckServe(req.UserID, creator, rt.cfg.App.Configured(), p.PartnerID, deref(p.CoupleID)); err != nil {
		return serveChecks{}, err
	}
	used, err := rt.cfg.App.CoupleUsage(ctx, req.UserID, p.PartnerID, false)
	if err != nil {
		return serveChecks{}, err
	}
	typ := court.JudgeTypeOf(p.JudgeType)
	if err := court.CheckUsage(creator.Tier, typ, used.Of(typ)); err != nil {
		return serveChecks{}, err
	}
	partner, err := rt.account(ctx, p.PartnerID)
	if err != nil {
		return serveChecks{}, err
	}
	var c serveChecks
	c.creatorLang, c.partnerLang, c.caseLang = court.Languages(creator, partner, p.AcceptLanguage)
	return c, nil
}

// usageBeforeVerdict is the usage check at the start of the verdict step
// (§3.6 step 3), on a fresh read: "" to go on, else the error verdict.
func (rt *sessions) usageBeforeVerdict(ctx context.Context, sess *court.Session) string {
	creator, err := rt.account(ctx, sess.CreatorID)
	var used appdata.Usage
	if err == nil {
		used, err = rt.cfg.App.CoupleUsage(ctx, sess.CreatorID, sess.PartnerID, true)
	}
	if err != nil {
		rt.log.Warn("usage check before the verdict failed", "session", sess.ID, "err", err)
		return court.MsgUsageCheckFailed
	}
	typ := court.JudgeTypeOf(sess.JudgeType)
	if court.CheckUsage(creator.Tier, typ, used.Of(typ)) != nil {
		return court.ErrUsageLimit.Error()
	}
	return ""
}

func (rt *sessions) screen(ctx context.Context, req *wire.Request, surface screen.Surface, fields map[string]string) error {
	return rt.screenToken(ctx, req, surface, fields, "")
}

// screenToken asks the screening service about an action: a refusal comes
// back as a *screenRefusal, a review waits its delay, and a failing service
// lets the action through (docs/screen.md).
func (rt *sessions) screenToken(ctx context.Context, req *wire.Request, surface screen.Surface, fields map[string]string, token string) error {
	d, err := rt.cfg.Screen.Screen(ctx, screen.Request{Surface: surface, UserID: req.UserID, Fields: fields, ChallengeToken: token})
	if err != nil {
		rt.log.Warn("screening failed; action let through", "surface", surface, "user", req.UserID, "err", err)
		return nil
	}
	delay, refusal := screen.Outcome(surface, d)
	if refusal != nil {
		rt.log.Info("action refused by screening", "surface", surface, "user", req.UserID, "reason", d.Reason)
		return &screenRefusal{*refusal}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// screenRefusal is an action refused by the screening service.
type screenRefusal struct{ screen.Refusal }

func (r *screenRefusal) Error() string { return r.Message }

// refusalOf answers a refusal of the checks: a coded one acks its code and
// sends court:error {message, code, ...}; an uncoded one is refuse(msg).
func refusalOf(err error) (*wire.Response, bool) {
	var ce *court.Error
	if errors.As(err, &ce) && ce.Code() != "" {
		return coded(ce.Error(), ce.Code(), nil, nil), true
	}
	var sr *screenRefusal
	if !errors.As(err, &sr) {
		return nil, false
	}
	if sr.Code == "" {
		return refuse(sr.Message), true
	}
	retry := sr.RetryAfterMs
	return coded(sr.Message, sr.Code, &retry, sr.Challenge), true
}

// coded acks a coded refusal with its code and sends court:error {message,
// code, ...} (protocol.CodedRefusal).
func coded(msg, code string, retryAfterMs *int64, challenge json.RawMessage) *wire.Response {
	ack, courtError := protocol.CodedRefusal(msg, code, retryAfterMs, challenge)
	return &wire.Response{Ack: ack, CourtError: courtError}
}
