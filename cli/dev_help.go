package cli

import (
	"fmt"
	"io"
	"os"

	"courtmesh/home/outbox"
)

// devInfo is what `courtd dev` runs on.
type devInfo struct {
	embeddedRedis, embeddedPG, devSecret, wan bool
	jwks                                      string // dev JWKS URL, "" when SUPABASE_URL is set
	wanRedis                                  string // the asia edge's path to the Redis primary, with --wan and REDIS_URL
	scale                                     float64
	outbox                                    outbox.Config
}

// printDevHelp tells a developer what `courtd dev` is running and how to use it.
func printDevHelp(w io.Writer, d devInfo) {
	if d.embeddedRedis {
		fmt.Fprintln(w, "directory: embedded in-memory stand-in (REDIS_URL unset; single process only)")
	} else {
		fmt.Fprintln(w, "directory: redis at $REDIS_URL")
	}
	if d.embeddedPG {
		fmt.Fprintln(w, "store: embedded in-memory stand-in (DATABASE_URL unset; nothing kept, no cases or outbox)")
	} else {
		fmt.Fprintln(w, "store: postgres at $DATABASE_URL (migrated)")
		switch {
		case d.outbox.Webhook != "":
			fmt.Fprintf(w, "outbox: signed POSTs to %s\n", d.outbox.Webhook)
		case d.outbox.Discard:
			fmt.Fprintln(w, "outbox: discarded (--webhook none)")
		default:
			fmt.Fprintln(w, "outbox: held pending (--webhook empty)")
		}
	}
	fmt.Fprintln(w, "judge: the built-in deterministic dev judge")
	if d.devSecret {
		fmt.Fprintf(w, "jwt: HS256 with the dev secret %q (SUPABASE_JWT_SECRET unset)\n", devJWTSecret)
	} else {
		fmt.Fprintln(w, "jwt: HS256 with $SUPABASE_JWT_SECRET")
	}
	if d.jwks != "" {
		fmt.Fprintf(w, "jwt: ES256 from the dev JWKS %s (SUPABASE_URL unset)\n", d.jwks)
	} else {
		fmt.Fprintln(w, "jwt: ES256/RS256 from the JWKS of $SUPABASE_URL, iss $SUPABASE_URL/auth/v1")
	}
	if d.wan {
		fmt.Fprintln(w, "wan: simulated; links between regions carry the RTT of regions/regions.json")
	}
	if d.wanRedis != "" {
		fmt.Fprintf(w, "wan: the asia edge reaches the Redis primary across it, through %s\n", d.wanRedis)
		if replica := os.Getenv(envRedisReplicaURL); replica != "" {
			fmt.Fprintf(w, "wan: the asia edge reads the directory from the replica at %s (replicate it through %s to see the real lag)\n", replica, d.wanRedis)
		}
	}
	if d.scale != 1 {
		fmt.Fprintf(w, "timers: scaled by COURT_TIMER_SCALE=%g\n", d.scale)
	}
	fmt.Fprintln(w, "token: go run ./cli/courtctl token --user <uuid> [--alg ES256]")
	fmt.Fprintln(w, "client: io(<edge url>, {transports: ['websocket'], auth: {token}}) with socket.io-client 4.8")
}
