-- +goose Up
-- The big values (the session's doc and LLM outputs, the verdicts, the
-- outbox payloads) are compressed with lz4 rather than Postgres's default
-- pglz: pglz was a quarter of the Postgres CPU of a whole session
-- (docs/performance.md, issue 11), lz4 compresses several times faster for
-- about the same size. Only values written from now on are affected. A
-- server built without lz4 keeps pglz.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE court_sessions
        ALTER COLUMN doc SET COMPRESSION lz4,
        ALTER COLUMN evidence_submissions SET COMPRESSION lz4,
        ALTER COLUMN user_a_evidence SET COMPRESSION lz4,
        ALTER COLUMN user_a_feelings SET COMPRESSION lz4,
        ALTER COLUMN user_a_needs SET COMPRESSION lz4,
        ALTER COLUMN user_b_evidence SET COMPRESSION lz4,
        ALTER COLUMN user_b_feelings SET COMPRESSION lz4,
        ALTER COLUMN user_b_needs SET COMPRESSION lz4,
        ALTER COLUMN verdict SET COMPRESSION lz4,
        ALTER COLUMN addendum_history SET COMPRESSION lz4,
        ALTER COLUMN verdict_history SET COMPRESSION lz4,
        ALTER COLUMN analysis SET COMPRESSION lz4,
        ALTER COLUMN resolutions SET COMPRESSION lz4,
        ALTER COLUMN priming_content SET COMPRESSION lz4,
        ALTER COLUMN joint_menu SET COMPRESSION lz4,
        ALTER COLUMN hybrid_resolution SET COMPRESSION lz4,
        ALTER COLUMN final_resolution SET COMPRESSION lz4;
    ALTER TABLE verdicts ALTER COLUMN content SET COMPRESSION lz4;
    ALTER TABLE court_outbox ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'courtmesh: lz4 not supported by this server, values stay pglz: %', SQLERRM;
END
$$;
-- +goose StatementEnd
