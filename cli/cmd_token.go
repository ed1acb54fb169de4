package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/token"
)

func newTokenCmd() *cobra.Command {
	var (
		user string
		ttl  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "token --user <uuid>",
		Short: "Mint an HS256 access token for a user (dev and tests)",
		Long: `token prints a Supabase-style HS256 JWT with sub = --user, signed with
SUPABASE_JWT_SECRET, or with the dev secret of ` + "`courtd dev`" + ` when it is unset.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return usagef("--user is required")
			}
			secret, _, _ := jwtSecret(true)
			tok, err := token.Mint([]byte(secret), user, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user id (the token's sub)")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "lifetime of the token")
	return cmd
}
