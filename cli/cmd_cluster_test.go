package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCourtctlExitCodes: usage errors exit 2 with what to do, help renders
// the flags' words, version prints.
func TestCourtctlExitCodes(t *testing.T) {
	t.Setenv(envCourtctlTLSDir, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"drain"}, exitUsage, "accepts 1 arg"},
		{[]string{"drain", "home-us-1", "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"drain", "home-us-1"}, exitUsage, "courtctl cert create --operator --name NAME"},
		{[]string{"status", "-o", "yaml"}, exitUsage, `want table or json`},
		{[]string{"migrate", "session", "x"}, exitUsage, "--to NODE|REGION is required"},
		{[]string{"migrate", "node", "home-us-1", "--count", "-1"}, exitUsage, "--count -1"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
	} {
		cmd := NewCourtctlCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(tc.args)
		require.Equal(t, tc.code, Execute(t.Context(), cmd), "%v: %s", tc.args, out.String())
		require.Contains(t, out.String(), tc.want, "%v", tc.args)
	}
	cmd := NewCourtctlCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"drain", "--help"})
	require.Equal(t, exitOK, Execute(t.Context(), cmd))
	require.Contains(t, out.String(), `--tls-dir string`)
	require.Contains(t, out.String(), `courtctl cert create --operator --name NAME`, "flag help keeps its words")
	cmd = NewCourtctlCmd()
	out.Reset()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	require.Equal(t, exitOK, Execute(t.Context(), cmd))
	require.True(t, strings.HasPrefix(out.String(), "courtctl "), out.String())
}
