package appdata

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/protocol"
)

func TestDecodeProfile(t *testing.T) {
	t.Parallel()
	id, partner := "a11ce000-0000-4000-8000-0000000000a1", "b0b00000-0000-4000-8000-0000000000b2"
	p, err := decodeProfile([]byte(`{"id":"` + id + `","partner_id":"` + partner + `","ai_insights_consent":true,
		"subscription_tier":"pause_gold","subscription_expires_at":"2026-12-01T00:00:00+00:00","preferred_language":"ja","display_name":"A"}`))
	require.NoError(t, err)
	require.Equal(t, Profile{ID: id, PartnerID: partner, AIConsent: true, Tier: TierGold,
		TierExpiresAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Language: "ja", DisplayName: "A"}, p.withUTC())
	p, err = decodeProfile([]byte(`{"id":"` + id + `","partner_id":null,"ai_insights_consent":null,"subscription_tier":null}`))
	require.NoError(t, err)
	require.Equal(t, Profile{ID: id, Tier: TierFree}, p, "nulls: no partner, no consent, free")
	for _, bad := range []string{`null`, `[]`, `{}`, `{"id":"x"}`, `{"id":"` + id + `","partner_id":"bob"}`,
		`{"id":"` + id + `","subscription_expires_at":"soon"}`, `{"id":"` + id + `","ai_insights_consent":"yes"}`} {
		_, err := decodeProfile([]byte(bad))
		require.ErrorIs(t, err, ErrRow, bad)
	}
}

func (p Profile) withUTC() Profile {
	p.TierExpiresAt = p.TierExpiresAt.UTC()
	return p
}

func TestDecodeUsage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Usage{
		`{"classic_count":1,"swift_count":2,"wise_count":3,"plan_count":9}`: {1, 2, 3},
		`[{"classic_count":1,"swift_count":null},{"classic_count":"2"}]`:    {Classic: 3},
		`[{"get_couple_usage":{"swift_count":1,"wise_count":1}}]`:           {Swift: 1, Wise: 1},
		`{"classic_count":null,"swift_count":null,"wise_count":null}`:       {},
		`[]`: {},
	} {
		got, err := decodeUsage([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{``, `null`, `1`, `{"swift_count":-1}`, `{"swift_count":1.5}`, `{"swift_count":"x"}`, `{"swift_count":1e300}`, `[1]`} {
		_, err := decodeUsage([]byte(bad))
		require.ErrorIs(t, err, ErrRow, bad)
	}
}

func FuzzDecodeRows(f *testing.F) {
	f.Add([]byte(`{"id":"a11ce000-0000-4000-8000-0000000000a1","partner_id":null,"subscription_tier":"free"}`))
	f.Add([]byte(`[{"classic_count":1,"swift_count":"2","wise_count":null}]`))
	f.Add([]byte(`{"r":{"swift_count":1}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if p, err := decodeProfile(raw); err == nil {
			if !protocol.IsUUID(p.ID) || (p.PartnerID != "" && !protocol.IsUUID(p.PartnerID)) {
				t.Fatalf("accepted a profile with bad ids: %+v", p)
			}
		}
		if u, err := decodeUsage(raw); err == nil {
			if u.Classic < 0 || u.Swift < 0 || u.Wise < 0 {
				t.Fatalf("negative usage %+v from %q", u, raw)
			}
		}
	})
}
