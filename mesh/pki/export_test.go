package pki

// Test hooks.
var (
	ReloadCheck = &reloadCheck
	ParseClaims = parseClaims
)
