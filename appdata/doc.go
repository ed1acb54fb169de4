// Package appdata reads and counts the app's own data in its Supabase
// database (DESIGN.md "The app's data"): the profiles table (partner, AI
// consent, subscription tier, preferred language, display name) and the
// usage_tracking table with its RPCs get_couple_usage and increment_usage
// (court-protocol.md §2.5, §4.6). Tables and functions are named without a
// schema, so they resolve through the connection's search_path: public on
// Supabase, a test's own schema in tests.
//
// A Source detects at start whether the app's tables exist. Without them it
// runs as "Supabase not configured", as the app does in development: every
// user consents, is on the gold tier and has no partner check. Profiles and
// couple usage are cached for a short TTL (see Config); StandIns creates
// faithful stand-ins of the tables and functions for development and tests
// and never touches ones that exist.
package appdata
