package cli

import (
	"fmt"
	"log/slog"
	"os"
)

// envExitAfterCommit is a TEST-ONLY failpoint (e2e/delivery_test.go): when it
// names a transition's event in the store's log ("accept", "timeout"),
// `courtd home` exits with status exitFailpoint right after committing such
// a transition and before pushing its court:state: a home that commits and
// dies before it pushes. Never set it in a deployment.
const envExitAfterCommit = "COURT_FAILPOINT_EXIT_AFTER_COMMIT"

// exitFailpoint is the exit status of the failpoint.
const exitFailpoint = 75

// exitAfterCommit returns the home's AfterCommit hook for the failpoint, or
// nil when it is not armed.
func exitAfterCommit(log *slog.Logger) func(event string) {
	want := os.Getenv(envExitAfterCommit)
	if want == "" {
		return nil
	}
	log.Warn("TEST-ONLY failpoint armed: the node exits after committing this event", "env", envExitAfterCommit, "event", want)
	return func(event string) {
		if event == want {
			fmt.Fprintf(os.Stderr, "failpoint %s: exit after committing %q\n", envExitAfterCommit, event)
			os.Exit(exitFailpoint)
		}
	}
}
