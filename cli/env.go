package cli

import (
	"fmt"
	"os"
	"strconv"
)

// Environment contract (DESIGN.md, "Contracts that tests outside the project
// rely on").
const (
	envJWTSecret = "SUPABASE_JWT_SECRET"
	envRedisURL  = "REDIS_URL"
	// envRedisReplicaURL is the edge's regional Redis replica (optional).
	envRedisReplicaURL = "REDIS_REPLICA_URL"
	envRedisPrefix     = "COURT_REDIS_PREFIX"
	envTimerScale      = "COURT_TIMER_SCALE"
	envDatabaseURL     = "DATABASE_URL"
)

// devJWTSecret is the HS256 secret `courtd dev` and `courtctl token` use when
// SUPABASE_JWT_SECRET is unset. It is for a laptop only.
const devJWTSecret = "courtmesh-dev-secret"

// timerScale reads COURT_TIMER_SCALE: a positive float, 1 when unset.
func timerScale() (float64, error) {
	v := os.Getenv(envTimerScale)
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number", envTimerScale, v)
	}
	return f, nil
}

// jwtSecret reads SUPABASE_JWT_SECRET, falling back to the dev secret only
// when allowDev is true.
func jwtSecret(allowDev bool) (secret string, isDev bool, err error) {
	if v := os.Getenv(envJWTSecret); v != "" {
		return v, false, nil
	}
	if allowDev {
		return devJWTSecret, true, nil
	}
	return "", false, fmt.Errorf("%s is not set", envJWTSecret)
}

func redisPrefix() string {
	if v := os.Getenv(envRedisPrefix); v != "" {
		return v
	}
	return "court:"
}
