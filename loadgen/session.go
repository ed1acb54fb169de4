package loadgen

import (
	"context"
	"fmt"
	"time"

	"courtmesh/protocol"
)

// Measured actions: each is the time from the actor's emit to the partner's
// court:state that shows the action (matched on the phase, the view or the
// flag it changes, so any server speaking the protocol can be measured).
// "analysis" is the second evidence's emit to PRIMING at the partner (the
// judge's time included).
const (
	ActServe         = "serve"
	ActAccept        = "accept"
	ActEvidence      = "submit_evidence"
	ActAnalysis      = "analysis"
	ActPriming       = "priming_complete"
	ActJoint         = "joint_ready"
	ActPick          = "resolution_pick"
	ActAcceptVerdict = "accept_verdict"
	// ActAll pools every action but analysis, as the peer's load client does.
	ActAll = "all_actions"
)

// actionOrder is the report order.
var actionOrder = []string{ActServe, ActAccept, ActEvidence, ActAnalysis, ActPriming, ActJoint, ActPick, ActAcceptVerdict, ActAll}

// ActionsPerSession is how many actions one whole session takes (the
// steps of sessionSteps).
const ActionsPerSession = 12

// TransitionsPerSession is how many state transitions one whole session
// commits: serve, accept, 2 evidence, the judge's result, 2 priming, 2 joint,
// 2 picks, 2 verdict accepts.
const TransitionsPerSession = 13

var evidencePayload = map[string]string{
	"evidence": "I saw the dishes pile up in the sink for three days while I was working late every night.",
	"feelings": "I feel like my effort at home goes unnoticed.",
	"needs":    "A fair split of the chores we both agree on.",
}

// step is one action of a session.
type step struct {
	name    string
	actorA  bool // the creator acts (else the partner)
	event   string
	payload func(partnerID string) any
	want    func(State) bool
}

func empty(string) any { return map[string]any{} }

// sessionSteps is a whole court session: serve → … → CLOSED.
var sessionSteps = []step{
	{ActServe, true, protocol.Serve, func(p string) any { return map[string]any{"partnerId": p, "coupleId": nil, "judgeType": "swift"} }, viewIs("PENDING_PARTNER")},
	{ActAccept, false, protocol.Accept, empty, phaseIs("EVIDENCE")},
	{ActEvidence, true, protocol.SubmitEvidence, func(string) any { return evidencePayload }, func(s State) bool { return s.Session != nil && s.Session.Evidence.Creator.Submitted }},
	{ActAnalysis, false, protocol.SubmitEvidence, func(string) any { return evidencePayload }, phaseIs("PRIMING")},
	{ActPriming, true, protocol.PrimingComplete, empty, func(s State) bool { return s.Session != nil && s.Session.PrimingReady.Creator }},
	{ActPriming, false, protocol.PrimingComplete, empty, phaseIs("JOINT_READY")},
	{ActJoint, true, protocol.JointReady, empty, func(s State) bool { return s.Session != nil && s.Session.JointReady.Creator }},
	{ActJoint, false, protocol.JointReady, empty, phaseIs("RESOLUTION")},
	{ActPick, true, protocol.ResolutionPick, func(string) any { return map[string]any{"resolutionId": "resolution_1"} }, func(s State) bool { return s.Session != nil && s.Session.ResolutionPicks.UserA != nil }},
	{ActPick, false, protocol.ResolutionPick, func(string) any { return map[string]any{"resolutionId": "resolution_1"} }, phaseIs("VERDICT")},
	{ActAcceptVerdict, true, protocol.AcceptVerdict, empty, func(s State) bool { return s.Session != nil && s.Session.VerdictAcceptances.Creator }},
	{ActAcceptVerdict, false, protocol.AcceptVerdict, empty, phaseIs("CLOSED")},
}

// runSession runs one whole session between a (creator) and b, bID being
// b's user id, each action when pace says it is due, and records each
// action in series and rate. It stops at the first failure.
func runSession(ctx context.Context, cfg Config, a, b *Client, bID string, series map[string]*Series, pace *pacer, rate *actionRate) (err error) {
	emits := make([]time.Time, 0, len(sessionSteps))
	var end time.Time
	defer func() { rate.addSession(emits, end, err == nil, pace.late) }()
	pace.first()
	for k, st := range sessionSteps {
		if k > 0 {
			if err := pace.next(ctx); err != nil {
				return err
			}
		}
		actor, partner := a, b
		if !st.actorA {
			actor, partner = b, a
		}
		emit := time.Now()
		d, err := measure(ctx, cfg, actor, partner, st.event, st.payload(bID), st.want)
		if err != nil {
			series[st.name].Fail()
			return fmt.Errorf("%s: %w", st.name, err)
		}
		series[st.name].Add(d)
		emits, end = append(emits, emit), emit.Add(d)
		if st.name != ActAnalysis {
			series[ActAll].Add(d)
		}
	}
	return nil
}

// measure emits event from actor and returns the time until partner reads a
// court:state matching want; the actor's ack must be ok.
func measure(ctx context.Context, cfg Config, actor, partner *Client, event string, payload any, want func(State) bool) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ActionTimeout)
	defer cancel()
	t0 := time.Now()
	ackCh := make(chan error, 1)
	go func() {
		ack, err := actor.Emit(ctx, event, payload)
		if err == nil && !ackOK(ack) {
			err = fmt.Errorf("%s refused: %s", event, ack)
		}
		ackCh <- err
	}()
	at, err := partner.WaitState(ctx, want)
	if ackErr := <-ackCh; ackErr != nil {
		return 0, ackErr
	}
	if err != nil {
		return 0, err
	}
	return at.Sub(t0), nil
}

func viewIs(v string) func(State) bool  { return func(s State) bool { return s.MyViewPhase == v } }
func phaseIs(p string) func(State) bool { return func(s State) bool { return s.Phase == p } }
