package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// pad is a large JSON string that differs with k, so a frame built in a
// buffer another frame still used would show.
func pad(k int) string {
	return strings.Repeat(string(rune('a'+k%26)), 20<<10+k*97%(26<<10))
}

// soloDoc is a whole court:state document of session for user alone (a
// user with one socket here: its push frame is pooled) at version.
func soloDoc(session, user string, version uint64) *wire.Event {
	d := &statedoc.Doc{Count: 1, Sides: statedoc.Creator.Bit(), Phase: []byte(`"EVIDENCE"`),
		Users: []statedoc.User{{ID: user, Side: statedoc.Creator, View: []byte(`"EVIDENCE"`)}},
		Fields: []statedoc.Indexed{{Index: 0, Field: statedoc.Field{
			Lit: []byte(`{"id":"` + session + `","pad":"` + pad(int(version)) + `","v":` + jsonUint(version) + `}`)}}}}
	return &wire.Event{UserID: user, Name: statedoc.EventName, Payload: statedoc.Append(nil, d), SessionID: session, Version: version}
}

// Frames built in pooled buffers (the acks, the pushes to a user with one
// socket) reach each socket byte for byte while many are built and written
// at once: a buffer given back to the pool before its write returned would
// be rebuilt into another frame under the writer (and -race would see it).
// User 0 has a second socket, which only reads: the two share each push,
// which neither writer may give back.
func TestPooledFramesArriveIntact(t *testing.T) {
	t.Parallel()
	const users, pushes, actions = 6, 40, 24
	te := newTestEdge(t, func(c *Config) { c.SendQueueLen = 4 * (pushes + actions) })
	te.mesh.setFn(func(_ context.Context, _ string, req *wire.Request) (*wire.Response, error) {
		if req.Event == protocol.Register {
			return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":{"phase":"IDLE"}}`)}, nil
		}
		var p struct{ N int }
		if err := json.Unmarshal(req.Payload, &p); err != nil {
			return nil, err
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true,"n":` + strconv.Itoa(p.N) + `,"pad":"` + pad(p.N) + `"}`)}, nil
	})
	ids := make([]string, users)
	clients := make([]*client, users)
	for i := range users {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		te.dir.mu.Lock()
		te.dir.routes[ids[i]] = directory.Route{SessionID: "s" + strconv.Itoa(i), HomeRegion: "us", OwnerNode: "home-us-1"}
		te.dir.mu.Unlock()
		clients[i] = te.connect(t, ids[i])
		clients[i].register()
	}
	second := te.connect(t, ids[0])
	second.register()

	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() { // the mesh's documents for user i
			for v := range uint64(pushes) {
				te.s.DeliverEvent(soloDoc("s"+strconv.Itoa(i), ids[i], v+1))
			}
		})
		wg.Go(func() { // user i's actions, answered alongside the pushes
			for k := range actions {
				clients[i].write(`42` + strconv.Itoa(k+1) + `["` + protocol.Cancel + `",{"n":` + strconv.Itoa(i*actions+k) + `}]`)
			}
		})
	}
	errs := make(chan error, users+1)
	for i := range users {
		go func() { errs <- readIntact(clients[i], "s"+strconv.Itoa(i), i*actions, pushes, actions) }()
	}
	go func() { errs <- readIntact(second, "s0", 0, pushes, 0) }()
	wg.Wait()
	for range users + 1 {
		require.NoError(t, <-errs)
	}
}

// readIntact reads a socket's pushes, in version order, and its acks (of
// actions base..base+actions-1, sent with ids 1..actions), in any order,
// and checks each byte for byte.
func readIntact(c *client, session string, base, pushes, actions int) error {
	next := uint64(1)
	acked := map[int]bool{}
	for n := 0; n < pushes+actions; n++ {
		if err := c.ws.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			return err
		}
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		f := string(b)
		if strings.HasPrefix(f, "42[") {
			want := `42["court:state",{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"` + session +
				`","pad":"` + pad(int(next)) + `","v":` + jsonUint(next) + `}}]`
			if f != want {
				return fmt.Errorf("push %d of %s not intact: %.80q…", next, session, f)
			}
			next++
			continue
		}
		id, rest, ok := strings.Cut(strings.TrimPrefix(f, "43"), "[")
		k, err := strconv.Atoi(id)
		if !ok || err != nil || k < 1 || k > actions || acked[k] {
			return fmt.Errorf("unexpected frame on %s: %.80q…", session, f)
		}
		m := base + k - 1
		if want := `{"ok":true,"n":` + strconv.Itoa(m) + `,"pad":"` + pad(m) + `"}]`; rest != want {
			return fmt.Errorf("ack %d of %s not intact: %.80q…", k, session, f)
		}
		acked[k] = true
	}
	return nil
}
