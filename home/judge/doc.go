// Package judge is the court's LLM step (court-protocol.md §3.6 and §3.7) as
// an external service: the JSON contract the home speaks to it, the Judge
// interface the home calls, and three implementations.
//
//   - HTTPClient calls a judge service over HTTP (docs/judge.md): per-attempt
//     timeouts and bounded retries with exponential backoff and jitter on 5xx,
//     408, 429, timeouts and network errors, never on other 4xx.
//   - Dev is the deterministic dev judge: no model, text drawn from a seeded
//     generator with the shapes and sizes of the real pipeline, marked as the
//     dev judge wherever its output shows. NewDevHandler serves it over HTTP
//     with the same contract, so it can run as a real external service.
//   - OpenAI calls an OpenAI-compatible chat-completions endpoint (OpenRouter
//     by default) with the models of §3.6, with the same retry policy.
//
// Protocol flow, one session version:
//
//	home                                          judge service
//	  POST /v1/deliberate/phase1  {case}          ->
//	                              <- {analysis, resolutions[3], assessed_intensity, historical_context}
//	  POST /v1/deliberate/phase2  {case, analysis, resolutions} ->
//	                              <- {priming_content{userA,userB}, joint_menu}
//	  (later, on a resolution mismatch)
//	  POST /v1/hybrid  {session_id, version, analysis, pick_a, pick_b} ->
//	                              <- {hybrid{title, description, rationale, estimatedDuration, bridgingMessage}}
//
// Every request carries "Idempotency-Key: <session_id>:<version>:<step>"
// (IdempotencyKey); a non-2xx reply carries {"error": message, "code"?}, and
// code "invalid_input" comes back to the caller as an *InputError.
//
// Deliberate runs both phases and assembles a court.Deliberation for
// court.Session.ApplyDeliberation; Hybrid.Resolution builds the object for
// court.Session.ApplyHybrid.
//
// Inputs are checked before any call (Case.Validate): an empty cameraFacts,
// theStoryIamTellingMyself or unmetNeeds is an *InputError whose text,
// "Invalid input: …", is the verdict's error message (VerdictError).
package judge
