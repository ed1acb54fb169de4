package appdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"courtmesh/protocol"
)

// ErrRow reports a profiles or usage row this package cannot read.
var ErrRow = errors.New("appdata: bad row")

// Subscription tiers (profiles.subscription_tier).
const (
	TierFree = "free"
	TierGold = "pause_gold"
)

// Profile is what the court reads of one profiles row.
type Profile struct {
	ID string
	// PartnerID is "" when the user has no partner.
	PartnerID string
	AIConsent bool
	// Tier is the subscription tier, TierFree when null.
	Tier string
	// TierExpiresAt is when a paid tier ends; zero means never.
	TierExpiresAt time.Time
	// Language is preferred_language, "" when null.
	Language    string
	DisplayName string
}

// EffectiveTier is the tier at now: a paid tier past its expiry is free.
func (p Profile) EffectiveTier(now time.Time) string {
	if p.Tier != TierFree && !p.TierExpiresAt.IsZero() && !now.Before(p.TierExpiresAt) {
		return TierFree
	}
	return p.Tier
}

// profileJSON is a profiles row as json_build_object gives it.
type profileJSON struct {
	ID            *string `json:"id"`
	PartnerID     *string `json:"partner_id"`
	AIConsent     *bool   `json:"ai_insights_consent"`
	Tier          *string `json:"subscription_tier"`
	TierExpiresAt *string `json:"subscription_expires_at"`
	Language      *string `json:"preferred_language"`
	DisplayName   *string `json:"display_name"`
}

// maxText bounds the text columns read (language, tier, name).
const maxText = 256

// decodeProfile reads a profiles row encoded as a JSON object.
func decodeProfile(raw []byte) (Profile, error) {
	var r profileJSON
	if err := json.Unmarshal(raw, &r); err != nil {
		return Profile{}, fmt.Errorf("%w: profile: %w", ErrRow, err)
	}
	if r.ID == nil || !protocol.IsUUID(*r.ID) {
		return Profile{}, fmt.Errorf("%w: profile id is not a uuid", ErrRow)
	}
	p := Profile{ID: strings.ToLower(*r.ID), Tier: TierFree}
	if r.PartnerID != nil {
		if !protocol.IsUUID(*r.PartnerID) {
			return Profile{}, fmt.Errorf("%w: partner_id is not a uuid", ErrRow)
		}
		p.PartnerID = strings.ToLower(*r.PartnerID)
	}
	p.AIConsent = r.AIConsent != nil && *r.AIConsent
	for _, f := range []struct {
		dst *string
		src *string
	}{{&p.Tier, r.Tier}, {&p.Language, r.Language}, {&p.DisplayName, r.DisplayName}} {
		if f.src == nil {
			continue
		}
		if len(*f.src) > maxText {
			return Profile{}, fmt.Errorf("%w: text column longer than %d bytes", ErrRow, maxText)
		}
		*f.dst = *f.src
	}
	if r.TierExpiresAt != nil {
		t, err := parseTimestamp(*r.TierExpiresAt)
		if err != nil {
			return Profile{}, fmt.Errorf("%w: subscription_expires_at: %w", ErrRow, err)
		}
		p.TierExpiresAt = t
	}
	return p, nil
}

// parseTimestamp reads a timestamptz as to_json writes it, or a timestamp
// without zone (taken as UTC).
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// Usage is a couple's count of court cases in one period, per judge type.
type Usage struct {
	Classic, Swift, Wise int
}

// Of returns the count for judge type typ (classic, swift or wise).
func (u Usage) Of(typ string) int {
	switch typ {
	case "classic":
		return u.Classic
	case "wise":
		return u.Wise
	}
	return u.Swift
}

// maxCount bounds a count read, so a corrupt row cannot overflow a sum.
const maxCount = 1 << 30

// decodeUsage reads the result of get_couple_usage (or the fallback query)
// as JSON: an object with classic_count, swift_count and wise_count (numbers
// or numeric strings; null or absent is 0), that object wrapped in a
// one-key object (a function returning json, read as a record), or an
// array of such objects, which are summed.
func decodeUsage(raw []byte) (Usage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var rows []json.RawMessage
		if err := json.Unmarshal(raw, &rows); err != nil {
			return Usage{}, fmt.Errorf("%w: usage: %w", ErrRow, err)
		}
		var sum Usage
		for _, r := range rows {
			u, err := decodeUsageObject(r, true)
			if err != nil {
				return Usage{}, err
			}
			sum.Classic, sum.Swift, sum.Wise = sum.Classic+u.Classic, sum.Swift+u.Swift, sum.Wise+u.Wise
		}
		return sum, nil
	}
	return decodeUsageObject(raw, true)
}

func decodeUsageObject(raw []byte, unwrap bool) (Usage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Usage{}, fmt.Errorf("%w: usage is not an object", ErrRow)
	}
	if unwrap && len(fields) == 1 {
		for k, v := range fields {
			if !strings.HasSuffix(k, "_count") {
				return decodeUsageObject(v, false)
			}
		}
	}
	var u Usage
	for key, dst := range map[string]*int{"classic_count": &u.Classic, "swift_count": &u.Swift, "wise_count": &u.Wise} {
		v, ok := fields[key]
		if !ok {
			continue
		}
		n, err := decodeCount(v)
		if err != nil {
			return Usage{}, fmt.Errorf("%w: %s: %w", ErrRow, key, err)
		}
		*dst = n
	}
	return u, nil
}

// decodeCount reads a non-negative count: a JSON number, a numeric string
// (bigint sums arrive as numbers; numeric may arrive as strings) or null.
func decodeCount(v json.RawMessage) (int, error) {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return 0, nil
	}
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, err
		}
		v = json.RawMessage(s)
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, fmt.Errorf("%s is not a number", v)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > maxCount || f != float64(int(f)) {
		return 0, fmt.Errorf("%s is not a count", v)
	}
	return int(f), nil
}
