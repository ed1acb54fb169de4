// Package token verifies and mints access tokens as Supabase Auth issues
// them, using github.com/golang-jwt/jwt/v5.
//
// A Verifier accepts HS256 tokens signed with the project's JWT secret
// (legacy projects) and ES256/RS256 tokens signed by a key of the project's
// JWKS. The algorithm is pinned to the key's type, exp is required (with a
// small leeway and an upper bound), nbf is honoured, aud must contain
// "authenticated", role must be "authenticated", iss must be the project's
// auth URL when one is configured, and sub must be a UUID: it is the user id.
// Verification is local: the JWKS is fetched at start by a JWKS, cached, and
// refreshed in the background and, rate limited, on an unknown key id; no
// token causes a network call of its own.
//
// Minter writes such tokens for development and tests (`courtctl token`);
// DevKey is the ES256 key `courtd dev` publishes in its dev JWKS.
package token
