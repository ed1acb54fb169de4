package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRateLimiterFailsClosedWhileRedisIsDown cuts the us edge from Redis
// for 10 s: past the limiter's grace the edge refuses court:serve
// (RATE_LIMIT_EXCEEDED, fail closed) and still limits court:register,
// counting it by itself; once Redis is back the same user serves again.
func TestRateLimiterFailsClosedWhileRedisIsDown(t *testing.T) {
	const grace = 2 * time.Second
	c := startCluster(t, clusterOpts{usEdgeRedisProxy: true, edgeArgs: []string{"--limiter-grace", grace.String()}})
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	socks := []*user{a}
	for range 7 {
		socks = append(socks, connectAs(t, c, c.usURL, a.id))
	}
	serve := map[string]any{"partnerId": b.id, "coupleId": nil, "judgeType": "swift"}

	c.usEdgeRedis.down()
	cut := time.Now()
	// The grace runs from the first failure the edge sees: an addendum
	// without a session, counted by the edge alone and refused by the home.
	early := a.emit(t, "court:submit_addendum", map[string]string{"text": "x"})
	require.NotEqual(t, "RATE_LIMIT_EXCEEDED", early.Error, "within the grace")
	for time.Since(cut) <= grace {
		time.Sleep(100 * time.Millisecond)
	}
	refused := a.emit(t, "court:serve", serve)
	require.Equal(t, "RATE_LIMIT_EXCEEDED", refused.Error, "serve fails closed past the grace")

	// Registers wait on Redis reads until their request timeout meanwhile,
	// so they are sent at once, 8 in flight on each of 8 sockets: the
	// edge counts each before anything else and refuses those past 60.
	refusals := make(chan bool, 64)
	for _, s := range socks {
		for range 8 {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				raw, err := s.c.Emit(ctx, "court:register", map[string]string{"userId": a.id})
				var got ackMsg
				refusals <- err == nil && json.Unmarshal(raw, &got) == nil && got.Error == "RATE_LIMIT_EXCEEDED"
			}()
		}
	}
	limited := false
	for range 64 {
		if limited = <-refusals; limited {
			break
		}
	}
	require.True(t, limited, "court:register is still limited, by the edge alone")
	require.Greater(t, scrape(t, c.edgeOps["us"], "court_edge_limiter_unavailable_total"), 60.0)

	for time.Since(cut) < 10*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	c.usEdgeRedis.up()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		raw, err := a.c.Emit(ctx, "court:serve", serve)
		var got ackMsg
		return err == nil && json.Unmarshal(raw, &got) == nil && got.OK
	}, 20*time.Second, 500*time.Millisecond, "serve goes through once Redis is back")
}
