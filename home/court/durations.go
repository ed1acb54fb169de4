package court

import (
	"math"
	"time"
)

// Base durations of court-protocol.md §3.3, before scaling.
const (
	basePending    = 10 * time.Minute
	baseEvidence   = time.Hour
	baseAnalyzing  = 5 * time.Minute
	basePriming    = time.Hour
	baseJointReady = time.Hour
	baseResolution = time.Hour
	baseVerdict    = time.Hour
	baseSettlement = 5 * time.Minute
	baseClosedHold = 30 * time.Second
)

// minDuration keeps a scaled duration from reaching zero, which means "no
// timer".
const minDuration = time.Millisecond

// Durations are the court timeouts (court-protocol.md §3.3).
type Durations struct {
	Pending    time.Duration // PENDING: toss
	Evidence   time.Duration // EVIDENCE: toss
	Analyzing  time.Duration // ANALYZING: toss
	Priming    time.Duration // PRIMING: toss
	JointReady time.Duration // JOINT_READY: toss
	Resolution time.Duration // RESOLUTION: toss
	Verdict    time.Duration // VERDICT: auto-accept and close
	Settlement time.Duration // a settlement request expires
	ClosedHold time.Duration // a CLOSED session is removed
}

// DurationsFromScale returns the §3.3 durations multiplied by scale, the
// value of COURT_TIMER_SCALE (tests run at 0.001). A scale that is not a
// positive number means 1. No duration is shorter than a millisecond.
func DurationsFromScale(scale float64) Durations {
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	f := func(d time.Duration) time.Duration {
		return max(time.Duration(math.Round(float64(d)*scale)), minDuration)
	}
	return Durations{
		Pending:    f(basePending),
		Evidence:   f(baseEvidence),
		Analyzing:  f(baseAnalyzing),
		Priming:    f(basePriming),
		JointReady: f(baseJointReady),
		Resolution: f(baseResolution),
		Verdict:    f(baseVerdict),
		Settlement: f(baseSettlement),
		ClosedHold: f(baseClosedHold),
	}
}

// ForPhase returns the timeout of phase p, CLOSED's hold included, or zero
// for a phase with no timer.
func (d Durations) ForPhase(p Phase) time.Duration {
	switch p {
	case PhasePending:
		return d.Pending
	case PhaseEvidence:
		return d.Evidence
	case PhaseAnalyzing:
		return d.Analyzing
	case PhasePriming:
		return d.Priming
	case PhaseJointReady:
		return d.JointReady
	case PhaseResolution:
		return d.Resolution
	case PhaseVerdict:
		return d.Verdict
	case PhaseClosed:
		return d.ClosedHold
	}
	return 0
}
