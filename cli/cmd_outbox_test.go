package cli

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/outbox"
	"courtmesh/home/outbox/signature"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

func TestCourtctlOutboxListsDeadRows(t *testing.T) {
	pool := pgtest.Pool(t)
	var schema string
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema))
	u, err := url.Parse(pgtest.URL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	t.Setenv(envDatabaseURL, u.String())
	_, err = pool.Exec(t.Context(), `INSERT INTO court_outbox (session_id, kind, payload, attempts, dead_at, last_error)
		VALUES ('3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'memory_job', '{"secret":"private text"}', 30, now(), 'webhook answered 500'),
		       ('3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'push', '{}', 0, NULL, NULL)`)
	require.NoError(t, err)

	out, code := run(t, NewCourtctlCmd(), "outbox", "--dead", "-o", "json")
	require.Equal(t, exitOK, code, out)
	var got struct{ Rows []outbox.Entry }
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Rows, 1)
	require.Equal(t, outbox.StateDead, got.Rows[0].State)
	require.Equal(t, "webhook answered 500", got.Rows[0].LastError)
	require.NotContains(t, out, "private text", "payloads are never shown")

	out, code = run(t, NewCourtctlCmd(), "outbox")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "pending")
	require.Contains(t, out, "dead")

	out, code = run(t, NewCourtctlCmd(), "outbox", "requeue", "--all-dead")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "1 dead rows requeued")
	_, code = run(t, NewCourtctlCmd(), "outbox", "requeue")
	require.Equal(t, exitUsage, code)
}

func TestWebhookFlags(t *testing.T) {
	t.Setenv(envWebhookSecret, "")
	f := webhookFlags{target: "https://hooks.example/court"}
	_, err := f.config(outbox.Config{})
	var ue usageError
	require.ErrorAs(t, err, &ue, "a webhook without a secret is refused")

	key := []byte("a webhook secret of 24+ bytes")
	t.Setenv(envWebhookSecret, signature.FormatSecret(key))
	cfg, err := f.config(outbox.Config{})
	require.NoError(t, err)
	require.Equal(t, key, cfg.Secret)
	require.Equal(t, f.target, cfg.Webhook)

	cfg, err = (&webhookFlags{target: webhookNone}).config(outbox.Config{})
	require.NoError(t, err)
	require.True(t, cfg.Discard)
	cfg, err = (&webhookFlags{}).config(outbox.Config{})
	require.NoError(t, err)
	require.False(t, cfg.Discard, "no webhook holds rows")
	require.Empty(t, cfg.Webhook)
}

func TestCourtdMigrateStatus(t *testing.T) {
	pool := pgtest.Empty(t)
	var schema string
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema))
	u, err := url.Parse(pgtest.URL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	t.Setenv(envDatabaseURL, u.String())

	out, code := run(t, NewCourtdCmd(), "migrate", "status")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "0001_cases.sql")
	require.Contains(t, out, "pending")
	out, code = run(t, NewCourtdCmd(), "migrate")
	require.Equal(t, exitOK, code, out)
	out, code = run(t, NewCourtdCmd(), "migrate", "status", "-o", "json")
	require.Equal(t, exitOK, code, out)
	var got struct{ Migrations []store.MigrationState }
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Migrations, 9)
	for _, m := range got.Migrations {
		require.True(t, m.Applied, m.Name)
	}
}
