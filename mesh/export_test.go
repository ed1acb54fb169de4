package mesh

// Test hooks: tests set them in TestMain, before any node runs.
var (
	DialBackoffMin = &dialBackoffMin
	DialBackoffMax = &dialBackoffMax
	EventQueueLen  = &eventQueueLen
)
