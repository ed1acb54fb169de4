package appdata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"courtmesh/protocol"
)

// ErrNotConfigured is returned by Open with Require when the app's tables
// are missing.
var ErrNotConfigured = errors.New("appdata: the app's tables (profiles, usage_tracking) are missing: Supabase not configured")

// Config configures a Source.
type Config struct {
	// DB is the app's database (DATABASE_URL). Nil means "Supabase not
	// configured" without looking.
	DB *pgxpool.Pool
	// Require makes Open fail with ErrNotConfigured when the tables are
	// missing (`courtd home --require-app-schema`).
	Require bool
	// ProfileTTL is how long a profile read is reused; zero means 30 s.
	ProfileTTL time.Duration
	// UsageTTL is how long a couple's usage read is reused by the serve
	// check; zero means 10 s. The check before the verdict step never uses
	// the cache.
	UsageTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the start-up line and read failures; nil discards.
	Logger *slog.Logger
}

// Source reads profiles and couple usage, cached. Safe for concurrent use.
type Source struct {
	db         *pgxpool.Pool
	configured bool
	now        func() time.Time
	profiles   *cache[Profile]
	usage      *cache[periodUsage]
}

// Open detects the app's tables and returns a Source. It logs at start
// which mode it runs in.
func Open(ctx context.Context, c Config) (*Source, error) {
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	s := &Source{db: c.DB, now: now,
		profiles: newCache[Profile](orDefault(c.ProfileTTL, 30*time.Second), now),
		usage:    newCache[periodUsage](orDefault(c.UsageTTL, 10*time.Second), now)}
	if c.DB != nil {
		ok, err := Present(ctx, c.DB)
		if err != nil {
			return nil, err
		}
		s.configured = ok
	}
	switch {
	case s.configured:
		logger.Info("app data: reading profiles and usage_tracking (Supabase configured)")
	case c.Require:
		return nil, ErrNotConfigured
	default:
		logger.Warn("app data: Supabase not configured (no profiles/usage_tracking tables): every user consents, is on the gold tier, and serves are not checked against profiles.partner_id")
	}
	return s, nil
}

// Present reports whether the app's tables resolve on db's search_path.
func Present(ctx context.Context, db *pgxpool.Pool) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT to_regclass('profiles') IS NOT NULL AND to_regclass('usage_tracking') IS NOT NULL`).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("appdata: detect the app's tables: %w", err)
	}
	return ok, nil
}

// Configured reports whether the app's tables exist ("Supabase
// configured").
func (s *Source) Configured() bool { return s.configured }

// unconfigured is every user's profile when Supabase is not configured.
func unconfigured(userID string) Profile {
	return Profile{ID: userID, AIConsent: true, Tier: TierGold}
}

// Profile returns userID's profile, from the cache when it is fresh. A user
// without a profiles row has no partner, no consent and the free tier.
func (s *Source) Profile(ctx context.Context, userID string) (Profile, error) {
	if !s.configured {
		return unconfigured(userID), nil
	}
	if p, ok := s.profiles.get(userID); ok {
		return p, nil
	}
	if !protocol.IsUUID(userID) {
		return Profile{ID: userID, Tier: TierFree}, nil
	}
	var raw []byte
	err := s.db.QueryRow(ctx, `SELECT json_build_object(
			'id', id, 'partner_id', partner_id, 'ai_insights_consent', ai_insights_consent,
			'subscription_tier', subscription_tier, 'subscription_expires_at', subscription_expires_at,
			'preferred_language', preferred_language, 'display_name', display_name)
		FROM profiles WHERE id = $1::uuid`, userID).Scan(&raw)
	var p Profile
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		p = Profile{ID: userID, Tier: TierFree}
	case err != nil:
		return Profile{}, fmt.Errorf("appdata: read profile %s: %w", userID, err)
	default:
		if p, err = decodeProfile(raw); err != nil {
			return Profile{}, err
		}
	}
	s.profiles.put(userID, p)
	return p, nil
}

// PeriodStart is the usage period of t: the first day of its UTC month.
func PeriodStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// CoupleUsage returns the usage this month of the couple of userID (whose
// partner is partnerID, "" if none): through get_couple_usage, or the
// usage_tracking table when the function is missing. fresh skips the
// cache.
func (s *Source) CoupleUsage(ctx context.Context, userID, partnerID string, fresh bool) (Usage, error) {
	if !s.configured {
		return Usage{}, nil
	}
	period := PeriodStart(s.now())
	if !fresh {
		if c, ok := s.usage.get(userID); ok && c.period.Equal(period) {
			return c.Usage, nil
		}
	}
	u, err := s.readUsage(ctx, userID, partnerID, period)
	if err != nil {
		return Usage{}, err
	}
	s.usage.put(userID, periodUsage{u, period})
	return u, nil
}

// periodUsage is a cached usage read and the period it is for.
type periodUsage struct {
	Usage
	period time.Time
}

// codeUndefinedFunction is Postgres's undefined_function.
const codeUndefinedFunction = "42883"

func (s *Source) readUsage(ctx context.Context, userID, partnerID string, period time.Time) (Usage, error) {
	if !protocol.IsUUID(userID) || (partnerID != "" && !protocol.IsUUID(partnerID)) {
		return Usage{}, fmt.Errorf("appdata: usage of %q: not a uuid", userID)
	}
	var raw []byte
	err := s.db.QueryRow(ctx, `SELECT coalesce(json_agg(r), '[]'::json) FROM get_couple_usage($1::uuid, $2::date) AS r`,
		userID, period).Scan(&raw)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUndefinedFunction {
		err = s.db.QueryRow(ctx, `SELECT json_build_object('classic_count', sum(classic_count),
				'swift_count', sum(swift_count), 'wise_count', sum(wise_count))
			FROM usage_tracking WHERE period_start = $2::date AND (couple_id = $3 OR user_id = $1::uuid)`,
			userID, period, CoupleKey(userID, partnerID)).Scan(&raw)
	}
	if err != nil {
		return Usage{}, fmt.Errorf("appdata: read usage of %s: %w", userID, err)
	}
	return decodeUsage(raw)
}

// CoupleKey is usage_tracking.couple_id: "<smaller uuid>-<larger uuid>", or
// the user id alone without a partner (court-protocol.md §4.6).
func CoupleKey(userID, partnerID string) string {
	a, b := strings.ToLower(userID), strings.ToLower(partnerID)
	switch {
	case b == "":
		return a
	case b < a:
		a, b = b, a
	}
	return a + "-" + b
}

// Invalidate drops the cached profiles and usage of userIDs, after this
// node counted usage for them or learnt their profile changed.
func (s *Source) Invalidate(userIDs ...string) {
	for _, u := range userIDs {
		s.profiles.drop(u)
		s.usage.drop(u)
	}
}

func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Unconfigured is a Source without the app's data ("Supabase not
// configured"), for a home without Postgres.
func Unconfigured() *Source {
	return &Source{now: time.Now, profiles: newCache[Profile](time.Second, time.Now), usage: newCache[periodUsage](time.Second, time.Now)}
}
