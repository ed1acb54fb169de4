package judge

import (
	"context"
	"encoding/json"
	"fmt"

	"courtmesh/home/court"
)

// Deliberate runs phase 1 then phase 2 of c on j and assembles the result,
// for court.Session.ApplyDeliberation.
func Deliberate(ctx context.Context, j Judge, c Case) (court.Deliberation, error) {
	p1, err := j.Phase1(ctx, Phase1Request{Case: c})
	if err != nil {
		return court.Deliberation{}, err
	}
	p2, err := j.Phase2(ctx, Phase2Request{Case: c, Analysis: p1.Analysis, Resolutions: p1.Resolutions})
	if err != nil {
		return court.Deliberation{}, err
	}
	return Assemble(p1, p2)
}

// Assemble turns the results of both phases into the session's fields
// (court-protocol.md §3.1 "V2 fields"). An empty AssessedIntensity or
// HistoricalContext becomes null.
func Assemble(p1 Phase1Result, p2 Phase2Result) (court.Deliberation, error) {
	resolutions, err := json.Marshal(p1.Resolutions)
	if err != nil {
		return court.Deliberation{}, fmt.Errorf("judge: marshal resolutions: %w", err)
	}
	priming, err := json.Marshal(p2.PrimingContent)
	if err != nil {
		return court.Deliberation{}, fmt.Errorf("judge: marshal priming content: %w", err)
	}
	intensity := json.RawMessage("null")
	if p1.AssessedIntensity != "" {
		intensity, _ = json.Marshal(p1.AssessedIntensity) // a string always marshals
	}
	return court.Deliberation{
		Analysis:          p1.Analysis,
		Resolutions:       resolutions,
		AssessedIntensity: intensity,
		HistoricalContext: orNull(p1.HistoricalContext),
		PrimingContent:    priming,
		JointMenu:         p2.JointMenu,
	}, nil
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// HybridResolution is the session's hybridResolution (§3.7), for
// court.Session.ApplyHybrid once marshalled.
type HybridResolution struct {
	ID                  string   `json:"id"`
	Title               string   `json:"title"`
	Description         string   `json:"description"`
	CombinedDescription string   `json:"combinedDescription"`
	Rationale           string   `json:"rationale"`
	EstimatedDuration   string   `json:"estimatedDuration"`
	RepairAttemptIDs    []string `json:"repairAttemptIds"`
	// FromUserA and FromUserB are the ids of the original picks.
	FromUserA       string `json:"fromUserA"`
	FromUserB       string `json:"fromUserB"`
	BridgingMessage string `json:"bridgingMessage"`
	IsHybrid        bool   `json:"isHybrid"`
}

// Resolution is h as the session's hybridResolution, blending the picks with
// ids fromUserA and fromUserB.
func (h Hybrid) Resolution(fromUserA, fromUserB string) HybridResolution {
	return HybridResolution{
		ID:                  court.HybridResolutionID,
		Title:               h.Title,
		Description:         h.Description,
		CombinedDescription: h.Description,
		Rationale:           h.Rationale,
		EstimatedDuration:   h.EstimatedDuration,
		RepairAttemptIDs:    []string{},
		FromUserA:           fromUserA,
		FromUserB:           fromUserB,
		BridgingMessage:     h.BridgingMessage,
		IsHybrid:            true,
	}
}
