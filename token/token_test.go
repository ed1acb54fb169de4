package token_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/token"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("super-secret-jwt-token-with-at-least-32-characters")

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// forge builds a token from raw header and claims JSON, signed with key.
func forge(key []byte, hdr, claims string) string {
	signing := b64(hdr) + "." + b64(claims)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestMintVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	tok, err := token.Mint(secret, "user-1", time.Hour)
	require.NoError(t, err)
	require.Len(t, strings.Split(tok, "."), 3)
	v := &token.Verifier{Secret: secret}
	sub, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "user-1", sub)
}

func TestMintRejects(t *testing.T) {
	t.Parallel()
	_, err := token.Mint(nil, "u", time.Hour)
	require.Error(t, err)
	_, err = token.Mint(secret, "", time.Hour)
	require.ErrorIs(t, err, token.ErrNoSubject)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	hs := `{"alg":"HS256","typ":"JWT"}`
	valid := `{"sub":"u1","exp":1700000100,"aud":"authenticated","role":"authenticated"}`
	good := forge(secret, hs, valid)
	parts := strings.Split(good, ".")
	cases := []struct {
		name    string
		tok     string
		secret  []byte
		wantSub string
		wantErr error
	}{
		{name: "valid", tok: good, wantSub: "u1"},
		{name: "aud array and extra claims", tok: forge(secret, hs, `{"sub":"u2","exp":1700000100,"aud":["a","b"],"x":{}}`), wantSub: "u2"},
		{name: "expired within leeway", tok: forge(secret, hs, `{"sub":"u1","exp":1699999990}`), wantSub: "u1"},
		{name: "expired", tok: forge(secret, hs, `{"sub":"u1","exp":1699999000}`), wantErr: token.ErrExpired},
		{name: "exp far past", tok: forge(secret, hs, `{"sub":"u1","exp":-1e300}`), wantErr: token.ErrExpired},
		{name: "exp far future", tok: forge(secret, hs, `{"sub":"u1","exp":1e300}`), wantSub: "u1"},
		{name: "no exp", tok: forge(secret, hs, `{"sub":"u1"}`), wantErr: token.ErrMalformed},
		{name: "missing sub", tok: forge(secret, hs, `{"exp":1700000100}`), wantErr: token.ErrNoSubject},
		{name: "empty sub", tok: forge(secret, hs, `{"sub":"","exp":1700000100}`), wantErr: token.ErrNoSubject},
		{name: "sub not a string", tok: forge(secret, hs, `{"sub":7,"exp":1700000100}`), wantErr: token.ErrMalformed},
		{name: "wrong secret", tok: forge([]byte("other"), hs, valid), wantErr: token.ErrSignature},
		{name: "verifier without secret", tok: good, secret: []byte{}, wantErr: token.ErrSignature},
		{name: "tampered claims", tok: parts[0] + "." + b64(`{"sub":"admin","exp":1700000100}`) + "." + parts[2], wantErr: token.ErrSignature},
		{name: "alg none", tok: b64(`{"alg":"none"}`) + "." + b64(valid) + ".", wantErr: token.ErrAlgorithm},
		{name: "empty signature", tok: parts[0] + "." + parts[1] + ".", wantErr: token.ErrSignature},
		{name: "alg none signed", tok: forge(secret, `{"alg":"none"}`, valid), wantErr: token.ErrAlgorithm},
		{name: "alg HS512", tok: forge(secret, `{"alg":"HS512"}`, valid), wantErr: token.ErrAlgorithm},
		{name: "alg RS256", tok: forge(secret, `{"alg":"RS256"}`, valid), wantErr: token.ErrAlgorithm},
		{name: "alg missing", tok: forge(secret, `{}`, valid), wantErr: token.ErrAlgorithm},
		{name: "empty", tok: "", wantErr: token.ErrMalformed},
		{name: "two parts", tok: parts[0] + "." + parts[1], wantErr: token.ErrMalformed},
		{name: "four parts", tok: good + ".x", wantErr: token.ErrMalformed},
		{name: "bad base64 header", tok: "!!!." + parts[1] + "." + parts[2], wantErr: token.ErrMalformed},
		{name: "padded signature", tok: good + "=", wantErr: token.ErrMalformed},
		{name: "header not json", tok: b64("nope") + "." + parts[1] + "." + parts[2], wantErr: token.ErrMalformed},
		{name: "claims not json", tok: forge(secret, hs, `{"sub":`), wantErr: token.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := secret
			if tc.secret != nil {
				key = tc.secret
			}
			v := &token.Verifier{Secret: key, Now: func() time.Time { return now }}
			sub, err := v.Verify(tc.tok)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, sub)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantSub, sub)
		})
	}
}

func FuzzVerify(f *testing.F) {
	good, err := token.Mint(secret, "u1", time.Hour)
	require.NoError(f, err)
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(forge(secret, `{"alg":"none"}`, `{"sub":"x","exp":1}`))
	f.Add(forge(secret, `{"alg":"HS256"}`, `{"sub":"x","exp":1e300}`))
	v := &token.Verifier{Secret: secret}
	f.Fuzz(func(t *testing.T, tok string) {
		sub, err := v.Verify(tok)
		if err == nil && sub == "" {
			t.Fatalf("accepted %q with empty subject", tok)
		}
		if err != nil && sub != "" {
			t.Fatalf("error %v with subject %q", err, sub)
		}
	})
}
