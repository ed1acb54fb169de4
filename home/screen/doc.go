// Package screen owns what happens to a user's text before the judge sees
// it (court-protocol.md §2.5, §7.1): sanitising with truncation (evidence
// 5000, feelings 2000, needs 2000, addendum 2000 characters) and the
// injection/abuse check, an external HTTP service like the judge
// (docs/screen.md). It holds the contract's Go types, the client
// (HTTPClient), a deterministic dev implementation (Dev, served by
// NewDevHandler) and the mapping of a decision to the app's error strings
// and codes (Refusal).
package screen
