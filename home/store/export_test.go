package store

// WithProvider runs goose over a test file system.
var WithProvider = withProvider
