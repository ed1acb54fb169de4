package home

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// BenchmarkWholeSession is the home's own work for one whole happy-path
// session, the load of `courtctl bench`: serve, accept, both evidences, the
// dev judge's deliberation, then both partners' priming, joint, pick and
// verdict acceptance (13 transitions), the creator on the us edge and the
// partner on asia. The store and the directory are the in-memory ones and
// the mesh drops what it is given, so what is measured is the runtime, the
// state machine, the encodings and the documents, not Postgres, Redis or
// QUIC. It reports the process's CPU (user+system) and its threads'
// voluntary context switches (a goroutine woken on an idle thread) per
// session.
func BenchmarkWholeSession(b *testing.B) {
	judged := make(chan struct{}, 1)
	h := start(b, options{quiet: true, mesh: &fakeMesh{discard: true}, afterCommit: func(event string) {
		if event == "judge_"+string(court.JudgeDeliberate) {
			judged <- struct{}{}
		}
	}})
	ctx := context.Background()
	act := func(user, edge, event, payload string) {
		resp, err := h.srv.HandleRequest(ctx, &wire.Request{UserID: user, Event: event, Payload: json.RawMessage(payload),
			EdgeNode: edge, EdgeRegion: "us"})
		if err != nil || !bytes.HasPrefix(resp.Ack, []byte(`{"ok":true`)) {
			b.Fatalf("%s of %s: %v %.200s", event, user, err, resp.Ack)
		}
	}
	evidence := `{"evidence":"I saw the dishes pile up in the sink for three days while I was working late every night.",` +
		`"feelings":"I feel like my effort at home goes unnoticed.","needs":"A fair split of the chores we both agree on."}`
	both := func(a, p, event, payload string) {
		act(a, edgeUS, event, payload)
		act(p, edgeAsia, event, payload)
	}
	cpu0, sw0 := usage(b)
	n := 0
	for b.Loop() {
		a, p := fmt.Sprintf("bench-a-%d", n), fmt.Sprintf("bench-b-%d", n)
		n++
		if err := h.dir.AddPresence(ctx, edgeUS, time.Minute, a); err != nil {
			b.Fatal(err)
		}
		if err := h.dir.AddPresence(ctx, edgeAsia, time.Minute, p); err != nil {
			b.Fatal(err)
		}
		act(a, edgeUS, protocol.Serve, fmt.Sprintf(`{"partnerId":%q,"coupleId":null,"judgeType":"swift"}`, p))
		act(p, edgeAsia, protocol.Accept, `{}`)
		both(a, p, protocol.SubmitEvidence, evidence)
		select {
		case <-judged:
		case <-time.After(10 * time.Second):
			b.Fatal("no deliberation committed")
		}
		both(a, p, protocol.PrimingComplete, `{}`)
		both(a, p, protocol.JointReady, `{}`)
		both(a, p, protocol.ResolutionPick, `{"resolutionId":"resolution_1"}`)
		both(a, p, protocol.AcceptVerdict, `{}`)
	}
	cpu, sw := usage(b)
	b.ReportMetric(float64(cpu-cpu0)/float64(time.Millisecond)/float64(n), "cpu-ms/session")
	b.ReportMetric(float64(sw-sw0)/float64(n), "ctxsw/session")
}

// usage is the user+system CPU of the process so far and its voluntary
// context switches.
func usage(b *testing.B) (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw
}
