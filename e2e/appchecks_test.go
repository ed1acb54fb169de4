package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/appdata"
	"courtmesh/directory/redistest"
	"courtmesh/token"
)

// restCall posts body to an edge's REST route as user and returns the
// status and body.
func restCall(t *testing.T, c *cluster, base, path, userID, body string) (int, string) {
	t.Helper()
	tok, err := token.Mint(secretOf(c), userID, time.Hour)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/api/court/"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestAppChecks runs the app's checks against stand-ins of its tables
// (courtd migrate --app-schema), with two home processes: a stranger cannot
// be summoned, over the socket or REST, with the app's strings; a partner
// can; a user without AI consent cannot submit evidence; a completed
// deliberation counts the couple's usage exactly once even when its owner is
// killed -9 right after committing it; and the couple, free tier, is then
// refused its second swift case of the month.
func TestAppChecks(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, appSchema: true})
	ctx := context.Background()
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	stranger := connect(t, c, c.usURL)
	d, e := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	_, err := c.pool.Exec(ctx, `INSERT INTO profiles (id, ai_insights_consent) VALUES ($1, true), ($2, true), ($3, true), ($4, true), ($5, false)`,
		a.id, b.id, stranger.id, d.id, e.id)
	require.NoError(t, err)
	_, err = c.pool.Exec(ctx, `UPDATE profiles SET partner_id = CASE id WHEN $1::uuid THEN $2::uuid WHEN $2::uuid THEN $1::uuid
		WHEN $3::uuid THEN $4::uuid ELSE $3::uuid END WHERE id IN ($1, $2, $3, $4)`, a.id, b.id, d.id, e.id)
	require.NoError(t, err)

	// A stranger's serve, over the socket and REST, from either side.
	got := a.emit(t, "court:serve", map[string]any{"partnerId": stranger.id, "coupleId": nil, "judgeType": "swift"})
	require.False(t, got.OK)
	require.Equal(t, "Invalid partnerId for current user", got.Error)
	status, body := restCall(t, c, c.asiaURL, "serve", a.id, `{"partnerId":"`+stranger.id+`"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.JSONEq(t, `{"errorCode":"INVALID_PARTNER","error":"Invalid partnerId for current user"}`, body)
	got = stranger.emit(t, "court:serve", map[string]any{"partnerId": a.id})
	require.Equal(t, "Invalid partnerId for current user", got.Error)

	// Consent: e never agreed to AI insights.
	status, _ = restCall(t, c, c.usURL, "serve", d.id, `{"partnerId":"`+e.id+`","judgeType":"classic"}`)
	require.Equal(t, http.StatusOK, status, "the partner's serve works over REST")
	e.must(t, "court:accept", map[string]any{})
	got = e.emit(t, "court:submit_evidence", evidence)
	require.Equal(t, "AI_CONSENT_REQUIRED", got.Error)
	status, body = restCall(t, c, c.usURL, "evidence", e.id, `{"evidence":"x","feelings":"y","needs":"z"}`)
	require.Equal(t, http.StatusForbidden, status)
	require.JSONEq(t, `{"errorCode":"AI_CONSENT_REQUIRED","error":"AI consent required to continue."}`, body)

	// The partner's serve works; kill the owner right after the deliberation
	// (the verdict step) committed and counted.
	rdb := redistest.Client(t)
	sid := driveTo(t, a, b, "PRIMING")
	owner, epoch, ok := c.route(rdb, sid)
	require.True(t, ok)
	p := c.home(t, owner)
	p.kill(t)
	require.Eventually(t, func() bool { return c.reowned(t, rdb, sid, owner, epoch) }, 10*time.Second, 20*time.Millisecond, "re-owned")
	finish(t, a, b, "PRIMING")
	var swift int
	require.NoError(t, c.pool.QueryRow(ctx, `SELECT coalesce(sum(swift_count), 0) FROM usage_tracking WHERE period_start = $1`,
		appdata.PeriodStart(time.Now())).Scan(&swift))
	require.Equal(t, 1, swift, "the completed session counted exactly once across the failover")
	p.restart(t)

	// The free couple used its swift case: refused, over the socket and REST.
	got = b.emit(t, "court:serve", map[string]any{"partnerId": a.id, "coupleId": nil, "judgeType": "swift"})
	require.Equal(t, "Usage limit reached. Please upgrade to continue.", got.Error)
	status, body = restCall(t, c, c.asiaURL, "serve", b.id, `{"partnerId":"`+a.id+`","judgeType":"swift"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.JSONEq(t, `{"error":"Usage limit reached. Please upgrade to continue."}`, body)
}
