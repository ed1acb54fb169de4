// Command courtd runs courtmesh nodes: `courtd dev` (a whole mesh in one
// process), `courtd edge` and `courtd home` (one role per process).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"courtmesh/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, cli.NewCourtdCmd())
	stop()
	os.Exit(code)
}
