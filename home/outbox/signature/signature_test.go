package signature_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/outbox/signature"
)

// The example of the Standard Webhooks specification: this secret, id,
// timestamp and body sign to this value.
func TestSpecExample(t *testing.T) {
	t.Parallel()
	key, err := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	id, ts := "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature.Sign(key, id, ts, body))

	h := http.Header{}
	signature.SetHeaders(h, key, id, ts, body)
	got, err := signature.Verify(key, h, body, ts.Add(time.Minute), 0)
	require.NoError(t, err)
	require.Equal(t, id, got)
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 32)
	ts := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":1}`)
	signed := func() http.Header {
		h := http.Header{}
		signature.SetHeaders(h, key, "outbox-1", ts, body)
		return h
	}
	cases := map[string]struct {
		h    func() http.Header
		body []byte
		now  time.Time
		want error
	}{
		"body changed": {signed, []byte(`{"id":2}`), ts, signature.ErrNoMatch},
		"other key": {func() http.Header {
			h := http.Header{}
			signature.SetHeaders(h, []byte("other key of 24 bytes!!!"), "outbox-1", ts, body)
			return h
		}, body, ts, signature.ErrNoMatch},
		"id changed":    {func() http.Header { h := signed(); h.Set(signature.HeaderID, "outbox-2"); return h }, body, ts, signature.ErrNoMatch},
		"replayed late": {signed, body, ts.Add(6 * time.Minute), signature.ErrTimestamp},
		"from future":   {signed, body, ts.Add(-6 * time.Minute), signature.ErrTimestamp},
		"no signature":  {func() http.Header { h := signed(); h.Del(signature.HeaderSignature); return h }, body, ts, signature.ErrMissing},
		"v2 only": {func() http.Header {
			h := signed()
			h.Set(signature.HeaderSignature, "v2,"+h.Get(signature.HeaderSignature)[3:])
			return h
		}, body, ts, signature.ErrNoMatch},
		"timestamp moved": {func() http.Header {
			h := signed()
			h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix()+1, 10))
			return h
		}, body, ts, signature.ErrNoMatch},
	}
	for name, c := range cases {
		_, err := signature.Verify(key, c.h(), c.body, c.now, 0)
		require.ErrorIs(t, err, c.want, name)
	}
	// Rotation: one good signature among several is enough.
	h := signed()
	h.Set(signature.HeaderSignature, "v1,bm90IGl0 "+h.Get(signature.HeaderSignature))
	_, err := signature.Verify(key, h, body, ts, 0)
	require.NoError(t, err)
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{1}, 32)
	got, err := signature.ParseSecret(signature.FormatSecret(key))
	require.NoError(t, err)
	require.Equal(t, key, got)
	for _, bad := range []string{"", "secret", "whsec_", "whsec_!!!", "whsec_" + "c2hvcnQ=", signature.FormatSecret(key)[6:]} {
		_, err := signature.ParseSecret(bad)
		require.ErrorIs(t, err, signature.ErrSecret, bad)
	}
}

// FuzzVerify: Verify never panics, accepts what Sign produced, and accepts
// nothing else: whenever it accepts, the headers carry exactly the signature
// Sign computes for that id, timestamp and body.
func FuzzVerify(f *testing.F) {
	key := bytes.Repeat([]byte{9}, 32)
	f.Add("outbox-1", "1800000000", "v1,AAAA", []byte(`{}`))
	f.Add("", "x", "v1, v1,", []byte(nil))
	f.Add("outbox-2", "1800000000", signature.Sign(key, "outbox-2", time.Unix(1_800_000_000, 0), []byte("b")), []byte("b"))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(signature.HeaderID, id)
		h.Set(signature.HeaderTimestamp, ts)
		h.Set(signature.HeaderSignature, sig)
		got, err := signature.Verify(key, h, body, now, 0)
		if err == nil {
			sec, perr := strconv.ParseInt(h.Get(signature.HeaderTimestamp), 10, 64)
			require.NoError(t, perr)
			want := signature.Sign(key, h.Get(signature.HeaderID), time.Unix(sec, 0), body)
			require.Contains(t, h.Get(signature.HeaderSignature), want)
			require.Equal(t, h.Get(signature.HeaderID), got)
		}
		if id == "" || ts == "" {
			return
		}
		// What Sign produced for this message always verifies.
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || sec < now.Unix()-60 || sec > now.Unix()+60 {
			return
		}
		h2 := http.Header{}
		signature.SetHeaders(h2, key, id, time.Unix(sec, 0), body)
		if h2.Get(signature.HeaderID) != id { // header values are trimmed
			return
		}
		_, err = signature.Verify(key, h2, body, now, 0)
		require.NoError(t, err)
	})
}
