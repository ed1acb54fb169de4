// Command courtctl is the courtmesh operator tool: dev tokens, the cluster CA
// and node certificates.
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
	code := cli.Execute(ctx, cli.NewCourtctlCmd())
	stop()
	os.Exit(code)
}
