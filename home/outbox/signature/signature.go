// Package signature signs and verifies webhook deliveries the way Standard
// Webhooks (standardwebhooks.com) does, so receivers can use any of its
// libraries, or Verify:
//
//	webhook-id:        the message id (the same on every retry)
//	webhook-timestamp: unix seconds of this attempt
//	webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">
//
// The key is the secret written as whsec_<base64>; the HMAC is keyed by the
// decoded bytes. A signature header may carry several space-separated
// signatures (key rotation); one valid signature is enough.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix starts a written secret.
const secretPrefix = "whsec_"

// DefaultTolerance is how far a timestamp may be from now for Verify.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify and ParseSecret.
var (
	ErrSecret    = errors.New("signature: secret must be whsec_<base64> of at least 24 bytes")
	ErrMissing   = errors.New("signature: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp = errors.New("signature: timestamp outside the tolerance")
	ErrNoMatch   = errors.New("signature: no matching signature")
)

// minSecret is the shortest key accepted: 192 bits.
const minSecret = 24

// ParseSecret decodes a secret written whsec_<base64>.
func ParseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < minSecret {
		return nil, ErrSecret
	}
	return key, nil
}

// FormatSecret writes key as whsec_<base64>.
func FormatSecret(key []byte) string {
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature value of one message: "v1,<base64>".
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SetHeaders sets the three headers of a message on h.
func SetHeaders(h http.Header, key []byte, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(key, id, ts, body))
}

// Verify checks a received message: its headers, its body exactly as
// received, the time now and the tolerance (zero means DefaultTolerance).
// It returns the message id, which a receiver uses to drop duplicates.
func Verify(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return "", ErrMissing
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrTimestamp, tsText)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return "", fmt.Errorf("%w: %s is %v from now", ErrTimestamp, tsText, d.Round(time.Second))
	}
	want := mac(key, id, tsText, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return id, nil
		}
	}
	return "", ErrNoMatch
}
