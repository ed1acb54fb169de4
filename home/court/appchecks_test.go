package court_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// The serve checks with the app's data: only the caller's partner can be
// summoned (the original test that a stranger passes is gone).
func TestCheckServe(t *testing.T) {
	t.Parallel()
	alice := court.Account{PartnerID: "bob"}
	couple, err := court.CheckServe("alice", alice, true, "bob", "")
	require.NoError(t, err)
	require.Equal(t, "alice-bob", couple)
	_, err = court.CheckServe("alice", alice, true, "mallory", "")
	require.EqualError(t, err, "Invalid partnerId for current user")
	_, err = court.CheckServe("alice", court.Account{}, true, "bob", "")
	require.EqualError(t, err, "Invalid partnerId for current user", "no partner: nobody can be summoned")
	_, err = court.CheckServe("alice", alice, true, "", "")
	require.EqualError(t, err, "partnerId required", "checked before the partner")
	_, err = court.CheckServe("alice", alice, true, "bob", "mallory-bob")
	require.EqualError(t, err, "Invalid coupleId for current user")
	_, err = court.CheckServe("alice", court.Account{}, false, "anyone", "")
	require.NoError(t, err, "Supabase not configured: no partner check")
	var ce *court.Error
	require.ErrorAs(t, court.ErrInvalidPartner, &ce)
	require.Empty(t, ce.Code(), "the socket shows the message, not a code")
}

func TestCheckConsentAndUsage(t *testing.T) {
	t.Parallel()
	err := court.CheckConsent(court.Account{})
	require.EqualError(t, err, "AI consent required to continue.")
	require.Equal(t, "AI_CONSENT_REQUIRED", court.ErrAIConsentRequired.Code())
	require.NoError(t, court.CheckConsent(court.Account{AIConsent: true}))

	for _, tc := range []struct {
		tier, judge string
		used        int
		ok          bool
	}{
		{"free", "swift", 0, true}, {"free", "swift", 1, false}, {"free", "classic", 2, true}, {"free", "classic", 3, false},
		{"free", "wise", 0, false}, {"free", "logical", 1, false}, {"pause_gold", "classic", 1 << 20, true},
		{"pause_gold", "swift", 99, true}, {"pause_gold", "swift", 100, false}, {"pause_gold", "wise", 10, false},
		{"platinum?", "swift", 1, false},
	} {
		err := court.CheckUsage(tc.tier, tc.judge, tc.used)
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
		} else {
			require.EqualError(t, err, "Usage limit reached. Please upgrade to continue.", "%+v", tc)
		}
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	c, p, k := court.Languages(court.Account{Language: "ja"}, court.Account{Language: "de-AT"}, "fr-CA,fr;q=0.9")
	require.Equal(t, [3]string{"ja", "de", "ja"}, [3]string{c, p, k}, "profiles first")
	c, p, k = court.Languages(court.Account{}, court.Account{}, "fr-CA,fr;q=0.9")
	require.Equal(t, [3]string{"fr", "en", "fr"}, [3]string{c, p, k}, "then Accept-Language for the creator only")
	c, p, k = court.Languages(court.Account{Language: "'; drop"}, court.Account{}, "*")
	require.Equal(t, [3]string{"en", "en", "en"}, [3]string{c, p, k}, "junk never reaches a prompt")
}
