-- Issue 9, defects 5 and 6.
--
-- 5. One sign-in rule for every credential query: user_may_sign_in() (the account
--    exists, is active and is not blocked), wallet_may_sign_in() for SIWE nonces, and
--    check_session_refresh(), which refuses a refresh_window or ttl out of bounds.
--    Access tokens get the expiry rule sessions and nonces already had; tokens that
--    expired at creation could never authenticate anything, so they are deleted first.
CREATE FUNCTION user_may_sign_in(user_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.id = user_id AND u.is_active AND NOT u.prohibit_login
    )
$$;

COMMENT ON FUNCTION user_may_sign_in(bigint) IS
    'The sign-in rule every query that issues, refreshes or validates a credential applies: the account exists (deleting one deletes it), is active and is not blocked.';

CREATE FUNCTION wallet_may_sign_in(wallet text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM users u
        WHERE u.wallet_address = lower(wallet)
          AND NOT user_may_sign_in(u.id)
    )
$$;

COMMENT ON FUNCTION wallet_may_sign_in(text) IS
    'user_may_sign_in for Sign-In-With-Ethereum: false when the wallet belongs to an account that may not sign in; true for an unknown wallet (it may sign up).';

CREATE FUNCTION check_session_refresh(ttl interval, refresh_window interval) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF refresh_window <= interval '0' THEN
        RAISE EXCEPTION 'refresh_window must be positive, got %', refresh_window
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF ttl <= refresh_window THEN
        RAISE EXCEPTION 'ttl (%) must be longer than refresh_window (%)', ttl, refresh_window
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'otherwise every request finds the session near expiry and rewrites it';
    END IF;
    IF ttl > interval '365 days' THEN
        RAISE EXCEPTION 'ttl must be at most 365 days, got %', ttl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION check_session_refresh(interval, interval) IS
    'Guard of RefreshAuthSession: true for 0 < refresh_window < ttl <= 365 days, else raises invalid_parameter_value naming the argument, so nothing is written.';

DELETE FROM access_tokens WHERE expires_at <= created_at;
ALTER TABLE access_tokens
    ADD CONSTRAINT access_tokens_expiry_after_creation CHECK (expires_at > created_at);

-- 6. Rate-limit windows of different sizes shared one row per (key, window_start).
--    The window size joins the key. Existing counters are dropped, not backfilled:
--    their window size is unknown and they are ephemeral (at worst a key starts a
--    fresh window at deploy time). The window_start index goes: the prune query now
--    deletes each window when it ends by its own size, which no index can serve.
CREATE FUNCTION rate_limit_window(window_size interval) RETURNS interval
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF window_size <= interval '0' THEN
        RAISE EXCEPTION 'window_size must be positive, got %', window_size
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF date_part('month', window_size) <> 0 OR date_part('year', window_size) <> 0 THEN
        RAISE EXCEPTION 'window_size must not contain months or years, got %', window_size
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'fixed windows need a fixed length: use days, e.g. 30 days';
    END IF;
    RETURN window_size;
END;
$$;

COMMENT ON FUNCTION rate_limit_window(interval) IS
    'The window size a rate-limit query was given, checked: positive and without months or years (date_bin''s rule), else invalid_parameter_value naming window_size.';

DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    key          text        NOT NULL
        CONSTRAINT rate_limits_key_not_empty CHECK (btrim(key) <> ''),
    window_size  interval    NOT NULL
        CONSTRAINT rate_limits_window_size_positive CHECK (window_size > interval '0'),
    window_start timestamptz NOT NULL,
    count        bigint      NOT NULL DEFAULT 1
        CONSTRAINT rate_limits_count_positive CHECK (count > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, window_size, window_start)
);
CREATE TRIGGER rate_limits_set_updated_at BEFORE UPDATE ON rate_limits
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE rate_limits IS 'Fixed-window request counters, incremented with one upsert; one row per key, window size and window.';
COMMENT ON COLUMN rate_limits.key IS 'What is limited, e.g. ''api:user:42'' or ''login:ip:203.0.113.7''.';
COMMENT ON COLUMN rate_limits.window_size IS 'Length of the window; part of the key, so a minute and an hour limit on one key count apart.';
COMMENT ON COLUMN rate_limits.window_start IS 'Start of the fixed window the hits fall in.';
