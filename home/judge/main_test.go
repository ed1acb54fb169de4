package judge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/judge"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sampleCase is a case with 600/300/300 characters of evidence per user, the
// sizes of court-protocol.md §7.2.
func sampleCase() judge.Case {
	party := func(id, who string) judge.Party {
		return judge.Party{
			UserID:   id,
			Name:     who,
			Evidence: strings.Repeat(who+" came home late and dinner was cold. ", 17)[:600],
			Feelings: strings.Repeat(who+" feels unseen and tired. ", 13)[:300],
			Needs:    strings.Repeat(who+" needs a heads-up and warmth. ", 11)[:300],
		}
	}
	return judge.Case{
		SessionID: "sess-1",
		Version:   7,
		JudgeType: judge.TypeSwift,
		Language:  "en",
		Creator:   party("user-a", "Ana"),
		Partner:   party("user-b", "Ben"),
	}
}

func newDev(t *testing.T, cfg judge.DevConfig) *judge.Dev {
	t.Helper()
	d, err := judge.NewDev(cfg)
	require.NoError(t, err)
	return d
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// server serves h on loopback and closes it when the test ends.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// counting counts the requests that reach h.
func counting(n *atomic.Int32, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}
