package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/loadgen"
)

func newBenchCmd() *cobra.Command {
	var (
		cfg        loadgen.Config
		urls       string
		pids       string
		jsonOut    string
		serverCore int
		cpu        []string
		cpuPG      []string
	)
	cmd := &cobra.Command{
		Use:   "bench --urls <edge,...>",
		Short: "Load generator: idle sockets and court sessions against any server speaking the protocol",
		Long: `bench mints tokens, opens --idle registered sockets on --idle-url, then runs
--couples whole sessions (serve → … → CLOSED), creator on URLs[i%n] and
partner on URLs[(i+1)%n], and reports for each action the time from the
actor's emit to the partner's court:state, and the RSS of --pids per idle
socket (--idle-settle after the last register ack, and right after it).
Without --think each couple acts back to back (the closed loop: as much
load as the servers take); with --think D each couple arrives within the
first D and then offers one action every D (±--think-jitter of it, drawn
from a generator seeded by the couple's index), so the run offers
min(--concurrency, --couples)/D actions a second; the report gives the
offered and the achieved rate. With --cpu and --cpu-pg it reports the
user+system CPU of those processes (/proc/<pid>/stat) over the sessions,
per completed session, and always its own. Tokens are signed with SUPABASE_JWT_SECRET (or the dev secret).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitList(urls)
			if len(cfg.URLs) == 0 {
				return usagef("--urls is required")
			}
			for _, p := range splitList(pids) {
				pid, err := strconv.Atoi(p)
				if err != nil {
					return usagef("--pids: %q is not a pid", p)
				}
				cfg.PIDs = append(cfg.PIDs, pid)
			}
			var err error
			if cfg.CPU, err = cpuGroups(cpu, cpuPG); err != nil {
				return err
			}
			if serverCore >= 0 {
				cfg.ServerCore = &serverCore
			}
			secret, _, _ := jwtSecret(true)
			cfg.Secret = []byte(secret)
			cfg.Progress = cmd.ErrOrStderr()
			res, err := loadgen.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			loadgen.WriteReport(cmd.OutOrStdout(), res)
			line, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(line))
			if jsonOut != "" {
				return os.WriteFile(jsonOut, append(line, '\n'), 0o644)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&urls, "urls", "", "comma-separated edge URLs (http://host:port)")
	f.StringVar(&cfg.IdleURL, "idle-url", "", "edge for the idle sockets (default: the first of --urls)")
	f.IntVar(&cfg.Idle, "idle", 0, "idle registered sockets held during the run")
	f.IntVar(&cfg.Couples, "couples", 0, "couples, each running one session")
	f.IntVar(&cfg.Concurrency, "concurrency", 50, "couples and dials in flight")
	f.IntVar(&cfg.RampPerSec, "ramp", 0, "start at most this many couples a second (0: no ramp)")
	f.DurationVar(&cfg.Think, "think", 0, "pace each couple: one action every D on average (0: back to back, closed loop)")
	f.Float64Var(&cfg.ThinkJitter, "think-jitter", 0.5, "each think time is drawn within ±this fraction of --think, in [0, 1)")
	f.StringVar(&pids, "pids", "", "comma-separated server pids whose RSS is reported")
	f.DurationVar(&cfg.IdleSettle, "idle-settle", 5*time.Second, "with --pids: read the RSS this long after the last idle socket registered (and right after it)")
	f.StringArrayVar(&cpu, "cpu", nil, "NAME=PID,PID: server processes whose CPU over the sessions is reported as NAME (repeatable)")
	f.IntVar(&serverCore, "server-core", -1, "with --cpu: the core the servers are pinned to; its busy time over the sessions, and what other processes took of it, is reported (-1: none)")
	f.StringArrayVar(&cpuPG, "cpu-pg", nil, "NAME=APPLICATION_NAME: the Postgres backends of DATABASE_URL with that application_name, counted as NAME (repeatable)")
	f.DurationVar(&cfg.ActionTimeout, "action-timeout", 10*time.Second, "bound on every wait")
	f.StringVar(&jsonOut, "json-out", "", "also write the JSON summary to this file")
	cmd.AddCommand(newBenchSessionsCmd(), newBenchWaitCmd(), newBenchReportCmd(),
		newBenchSoakCmd(), newBenchPlotCmd(), newBenchSoakReportCmd(), newBenchPlotsCmd(), newBenchDrainCmd())
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
