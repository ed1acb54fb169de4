// Package outbox delivers the court_outbox rows that package store commits
// with each transition (push notifications, memory-extraction jobs) to an
// HTTP webhook.
//
// A Dispatcher claims due rows with SELECT ... FOR UPDATE SKIP LOCKED in a
// transaction, POSTs each as JSON {id, kind, session_id, payload} with the
// header "Idempotency-Key: outbox-<id>" and a Standard Webhooks signature
// (package signature; webhook-id is the same outbox-<id>), and, in the same
// transaction, marks each row delivered (a 2xx answer) or schedules its
// retry (attempts + 1, next_attempt_at after a capped exponential backoff
// with jitter, last_error). After MaxAttempts failures a row is
// dead-lettered (dead_at): never retried, counted in court_outbox_dead,
// listed by List and requeued by Requeue (`courtctl outbox`). Several dispatchers, one per home node, share the table: a
// row stays locked by the one dispatcher sending it, so no two send it at
// the same time, and once marked delivered it is never sent again.
//
// "Exactly once" to an external webhook therefore means: exactly one
// successful delivery is recorded per row, and the receiver sees each row at
// least once. A dispatcher that dies, or loses its database connection,
// between a POST and the commit that marks it leaves the row undelivered; it
// is sent again, by any dispatcher, with the same Idempotency-Key, which the
// receiver uses to drop the duplicate. POSTs time out quickly (5 s by
// default) so a row is never locked for long.
//
// Without Config.Webhook rows are held: they stay pending, a Warn and the
// court_outbox_sink{mode="hold"} gauge say so, and any dispatcher with a
// webhook delivers them later. Config.Discard (`--webhook none`) marks them
// discarded instead. Payloads (both partners' private text) are never
// logged.
package outbox
