package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/protocol"
	"courtmesh/token"
)

func newTokenCmd() *cobra.Command {
	var (
		user string
		ttl  time.Duration
		alg  string
	)
	cmd := &cobra.Command{
		Use:   "token --user <uuid> [--alg HS256|ES256]",
		Short: "Mint an access token for a user (dev and tests)",
		Long: `token prints a Supabase-style JWT with sub = --user, aud and role
"authenticated", and iss = $SUPABASE_URL/auth/v1 when SUPABASE_URL is set.
HS256 signs with SUPABASE_JWT_SECRET, or with the dev secret of ` + "`courtd dev`" + `
when it is unset; ES256 signs with the dev key that ` + "`courtd dev`" + ` publishes in
its dev JWKS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !protocol.IsUUID(user) {
				return usagef("--user must be a UUID, got %q", user)
			}
			var m token.Minter
			switch strings.ToUpper(alg) {
			case "HS256":
				secret, _, _ := jwtSecret(true)
				m.Secret = []byte(secret)
			case "ES256":
				m.Key, m.KeyID = token.DevKey(), token.DevKeyID
			default:
				return usagef("--alg %q: want HS256 or ES256", alg)
			}
			if u := os.Getenv(envSupabaseURL); u != "" {
				m.Issuer = token.IssuerOf(u)
			}
			tok, err := m.Mint(user, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user id (the token's sub, a UUID)")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "lifetime of the token")
	cmd.Flags().StringVar(&alg, "alg", "HS256", "HS256 (SUPABASE_JWT_SECRET or the dev secret) or ES256 (the dev JWKS key)")
	return cmd
}
