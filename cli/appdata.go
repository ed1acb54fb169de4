package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"courtmesh/appdata"
	"courtmesh/home/screen"
)

// createAppStandIns is `courtd migrate --app-schema`.
func createAppStandIns(ctx context.Context, pool *pgxpool.Pool, out io.Writer) error {
	created, err := appdata.StandIns(ctx, pool)
	if err != nil {
		return err
	}
	if len(created) == 0 {
		fmt.Fprintln(out, "app schema: every table and function exists; nothing created")
		return nil
	}
	fmt.Fprintf(out, "app schema: created stand-ins of %s\n", strings.Join(created, ", "))
	return nil
}

// appFlags are a home's flags for the app's checks.
type appFlags struct {
	requireSchema bool
	screenURL     string
}

func (a *appFlags) register(cmd *cobra.Command, requireByDefault bool) {
	cmd.Flags().BoolVar(&a.requireSchema, "require-app-schema", requireByDefault,
		"refuse to start without the app's profiles and usage_tracking tables (false: run as \"Supabase not configured\": every user consents, is gold, no partner check)")
	cmd.Flags().StringVar(&a.screenURL, "screen-url", "", "base URL of the injection/abuse screening service (docs/screen.md); empty uses the deterministic dev screener")
}

// open opens the app's data on pool (nil: the embedded store, so "Supabase
// not configured") and the screener.
func (a *appFlags) open(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (*appdata.Source, screen.Screener, error) {
	src, err := appdata.Open(ctx, appdata.Config{DB: pool, Require: a.requireSchema, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("%w (run `courtd migrate --app-schema` for stand-ins, or --require-app-schema=false)", err)
	}
	if a.screenURL == "" {
		logger.Info("screening: " + screen.DevName)
		return src, screen.Dev{}, nil
	}
	scr, err := screen.NewHTTPClient(a.screenURL, nil, 0)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return src, scr, nil
}
