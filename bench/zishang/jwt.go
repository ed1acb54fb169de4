package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

var errToken = errors.New("zishang: invalid token")

// verify checks an HS256 JWT (algorithm, signature, exp) and returns its sub.
func verify(secret []byte, tok string, now time.Time) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errToken
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if decodePart(parts[0], &hdr) != nil || hdr.Alg != "HS256" {
		return "", errToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", errToken
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "", errToken
	}
	var claims struct {
		Sub string   `json:"sub"`
		Exp *float64 `json:"exp"`
	}
	if decodePart(parts[1], &claims) != nil || claims.Sub == "" {
		return "", errToken
	}
	if claims.Exp != nil && now.After(time.Unix(int64(*claims.Exp), 0).Add(30*time.Second)) {
		return "", errToken
	}
	return claims.Sub, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
