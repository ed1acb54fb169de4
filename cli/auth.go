package cli

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"courtmesh/token"
)

// envSupabaseURL is the project URL: its JWKS verifies ES256/RS256 tokens
// and its auth URL is the tokens' issuer (DESIGN.md, "Contracts").
const envSupabaseURL = "SUPABASE_URL"

// edgeVerifier builds the token verifier of an edge from the environment:
// HS256 with SUPABASE_JWT_SECRET, ES256/RS256 from the JWKS of SUPABASE_URL
// (iss checked), or from devJWKS when SUPABASE_URL is unset and devJWKS is
// set (`courtd dev`). At least one of the two must be configured. The JWKS
// refresh stops with ctx.
func edgeVerifier(ctx context.Context, secret, devJWKS string, logger *slog.Logger) (*token.Verifier, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	v := &token.Verifier{Secret: []byte(secret)}
	jwksURL := devJWKS
	if u := os.Getenv(envSupabaseURL); u != "" {
		v.Issuer = token.IssuerOf(u)
		jwksURL = token.JWKSOf(u)
	}
	if secret == "" && jwksURL == "" {
		return nil, fmt.Errorf("neither %s nor %s is set: no token can verify", envJWTSecret, envSupabaseURL)
	}
	if jwksURL != "" {
		keys, err := token.NewJWKS(ctx, token.JWKSConfig{URL: jwksURL, Logger: logger})
		if err != nil {
			return nil, err
		}
		v.Keys = keys
	}
	return v, nil
}

// devJWKSHandler serves the dev JWKS (token.DevKey) at token.JWKSPath, as a
// Supabase project serves its own.
func devJWKSHandler() (http.Handler, error) {
	doc, err := token.JWKSDocument(map[string]*ecdsa.PublicKey{token.DevKeyID: &token.DevKey().PublicKey})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+token.JWKSPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	return mux, nil
}
