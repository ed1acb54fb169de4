package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"courtmesh/appdata"
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

// openAppData opens the app's data on pool (nil: the embedded store, so
// "Supabase not configured"). require refuses to start without the app's
// tables (`courtd home --require-app-schema`).
func openAppData(ctx context.Context, pool *pgxpool.Pool, require bool, logger *slog.Logger) (*appdata.Source, error) {
	src, err := appdata.Open(ctx, appdata.Config{DB: pool, Require: require, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("%w (run `courtd migrate --app-schema` for stand-ins, or --require-app-schema=false)", err)
	}
	return src, nil
}
