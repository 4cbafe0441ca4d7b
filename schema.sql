-- Plue database schema: the single source of truth.
--
-- Grouped by domain. Conventions:
--   * surrogate keys are `id bigint GENERATED ALWAYS AS IDENTITY`; join tables use
--     composite primary keys;
--   * every timestamp is timestamptz; mutable tables carry created_at/updated_at and
--     updated_at is maintained by the set_updated_at() trigger, never by callers;
--   * closed sets of states are PostgreSQL enums;
--   * ON DELETE CASCADE for owned children, SET NULL where history must survive a
--     deleted user or parent;
--   * secrets (session keys, access tokens) are stored only as sha256 digests in
--     lower-case hex (64 characters);
--   * Ethereum wallet addresses are stored in one canonical lower-case form;
--   * counters that can grow (tokens, costs in micro-USD) are bigint.

-- ---------------------------------------------------------------------------
-- Shared functions and enum types
-- ---------------------------------------------------------------------------

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION set_updated_at() IS
    'BEFORE UPDATE trigger: keeps updated_at current so callers never set it.';

CREATE TYPE issue_state AS ENUM ('open', 'closed');
CREATE TYPE issue_event_type AS ENUM (
    'created', 'closed', 'reopened', 'renamed', 'edited',
    'labeled', 'unlabeled', 'assigned', 'unassigned',
    'milestoned', 'demilestoned', 'due_date_set', 'due_date_removed',
    'pinned', 'unpinned', 'referenced', 'dependency_added', 'dependency_removed'
);
CREATE TYPE landing_status AS ENUM (
    'pending', 'in_review', 'approved', 'queued', 'landing',
    'landed', 'conflicted', 'failed', 'abandoned'
);
CREATE TYPE review_state AS ENUM (
    'pending', 'commented', 'approved', 'changes_requested', 'dismissed'
);
CREATE TYPE diff_side AS ENUM ('left', 'right');
CREATE TYPE pr_state AS ENUM ('open', 'closed', 'merged');
CREATE TYPE merge_style AS ENUM ('merge', 'squash', 'rebase');
CREATE TYPE conflict_kind AS ENUM ('content', 'modify_delete', 'add_add', 'rename', 'other');
CREATE TYPE file_change_kind AS ENUM ('added', 'modified', 'deleted', 'renamed');
CREATE TYPE watch_mode AS ENUM ('watching', 'participating', 'ignoring');
CREATE TYPE session_status AS ENUM ('active', 'idle', 'completed', 'failed', 'aborted');
CREATE TYPE message_role AS ENUM ('system', 'user', 'assistant', 'tool');
CREATE TYPE message_status AS ENUM ('pending', 'streaming', 'completed', 'failed', 'aborted');
CREATE TYPE part_kind AS ENUM ('text', 'reasoning', 'tool_call', 'tool_result', 'file');
CREATE TYPE workflow_run_status AS ENUM (
    'queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'
);
CREATE TYPE workflow_step_status AS ENUM (
    'pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'
);
CREATE TYPE log_stream AS ENUM ('stdout', 'stderr', 'system');
CREATE TYPE runner_status AS ENUM ('idle', 'busy', 'draining', 'offline');
CREATE TYPE commit_state AS ENUM ('pending', 'success', 'failure', 'error');

-- ---------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text        NOT NULL
        CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$'),
    email          text
        CONSTRAINT users_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    display_name   text        NOT NULL DEFAULT '',
    bio            text        NOT NULL DEFAULT '',
    avatar_url     text,
    wallet_address text
        CONSTRAINT users_wallet_address_canonical CHECK (wallet_address ~ '^0x[0-9a-f]{40}$'),
    is_active      boolean     NOT NULL DEFAULT true,
    is_admin       boolean     NOT NULL DEFAULT false,
    prohibit_login boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    CONSTRAINT users_wallet_address_key UNIQUE (wallet_address)
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX idx_users_created ON users (created_at DESC, id DESC);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE users IS 'A person (or bot) with an account on the forge.';
COMMENT ON COLUMN users.username IS 'Login and URL name; unique case-insensitively, case kept for display.';
COMMENT ON COLUMN users.email IS 'Contact address, mirrors the primary row of email_addresses; NULL for wallet-only accounts.';
COMMENT ON COLUMN users.wallet_address IS 'Ethereum address used for Sign-In-With-Ethereum, canonical lower-case 0x form.';
COMMENT ON COLUMN users.prohibit_login IS 'Set by an admin to block sign-in without deleting the account.';

CREATE TABLE email_addresses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       text        NOT NULL
        CONSTRAINT email_addresses_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    is_primary  boolean     NOT NULL DEFAULT false,
    is_verified boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX email_addresses_email_lower_key ON email_addresses (lower(email));
CREATE UNIQUE INDEX email_addresses_one_primary_per_user ON email_addresses (user_id)
    WHERE is_primary;
CREATE INDEX idx_email_addresses_user ON email_addresses (user_id, created_at, id);
CREATE TRIGGER email_addresses_set_updated_at BEFORE UPDATE ON email_addresses
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE email_addresses IS 'Email addresses a user owns; at most one primary per user.';

-- ---------------------------------------------------------------------------
-- Auth
-- ---------------------------------------------------------------------------

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

CREATE TABLE auth_sessions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_key_hash text        NOT NULL
        CONSTRAINT auth_sessions_session_key_hash_sha256 CHECK (session_key_hash ~ '^[0-9a-f]{64}$'),
    user_agent       text        NOT NULL DEFAULT '',
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE UNIQUE INDEX idx_auth_sessions_key ON auth_sessions (session_key_hash);
CREATE INDEX idx_auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX idx_auth_sessions_expires ON auth_sessions (expires_at);
CREATE TRIGGER auth_sessions_set_updated_at BEFORE UPDATE ON auth_sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE auth_sessions IS 'A signed-in browser session; the cookie key itself is never stored.';
COMMENT ON COLUMN auth_sessions.session_key_hash IS 'sha256 of the session cookie key, lower-case hex.';

CREATE TABLE access_tokens (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text        NOT NULL
        CONSTRAINT access_tokens_name_not_empty CHECK (btrim(name) <> ''),
    token_hash       text        NOT NULL
        CONSTRAINT access_tokens_token_hash_sha256 CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    token_last_eight text        NOT NULL
        CONSTRAINT access_tokens_token_last_eight_length CHECK (char_length(token_last_eight) = 8),
    scopes           text[]      NOT NULL DEFAULT '{}'
        CONSTRAINT access_tokens_scopes_no_nulls CHECK (array_position(scopes, NULL) IS NULL),
    expires_at       timestamptz,
    last_used_at     timestamptz,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT access_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT access_tokens_user_name_key UNIQUE (user_id, name),
    CONSTRAINT access_tokens_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX idx_access_tokens_user ON access_tokens (user_id, created_at DESC, id DESC);
CREATE TRIGGER access_tokens_set_updated_at BEFORE UPDATE ON access_tokens
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE access_tokens IS 'Personal access tokens for the API; only the sha256 of the token is kept.';
COMMENT ON COLUMN access_tokens.token_hash IS 'sha256 of the full token, lower-case hex.';
COMMENT ON COLUMN access_tokens.token_last_eight IS 'Last eight characters of the token, shown so users can tell tokens apart.';
COMMENT ON COLUMN access_tokens.expires_at IS 'NULL means the token never expires.';
COMMENT ON COLUMN access_tokens.revoked_at IS 'Set when the user revokes the token; a revoked token never validates again.';

CREATE TABLE siwe_nonces (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nonce          text        NOT NULL
        CONSTRAINT siwe_nonces_nonce_format CHECK (nonce ~ '^[A-Za-z0-9]{8,64}$'),
    wallet_address text        NOT NULL
        CONSTRAINT siwe_nonces_wallet_address_canonical CHECK (wallet_address ~ '^0x[0-9a-f]{40}$'),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT siwe_nonces_nonce_key UNIQUE (nonce),
    CONSTRAINT siwe_nonces_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX idx_siwe_nonces_expires ON siwe_nonces (expires_at);

COMMENT ON TABLE siwe_nonces IS 'One-time nonces for Sign-In-With-Ethereum (EIP-4361) messages.';
COMMENT ON COLUMN siwe_nonces.nonce IS 'EIP-4361 nonce: at least 8 alphanumeric characters.';
COMMENT ON COLUMN siwe_nonces.used_at IS 'Set exactly once, when a signed message carrying this nonce is accepted.';

CREATE TABLE ssh_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL
        CONSTRAINT ssh_keys_name_not_empty CHECK (btrim(name) <> ''),
    fingerprint  text        NOT NULL
        CONSTRAINT ssh_keys_fingerprint_format CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
    public_key   text        NOT NULL
        CONSTRAINT ssh_keys_public_key_not_empty CHECK (btrim(public_key) <> ''),
    key_type     text        NOT NULL
        CONSTRAINT ssh_keys_key_type_known CHECK (key_type IN (
            'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
            'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com',
            'sk-ecdsa-sha2-nistp256@openssh.com')),
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ssh_keys_user_name_key UNIQUE (user_id, name)
);
CREATE UNIQUE INDEX idx_ssh_keys_fingerprint ON ssh_keys (fingerprint);
CREATE INDEX idx_ssh_keys_user ON ssh_keys (user_id, created_at, id);
CREATE TRIGGER ssh_keys_set_updated_at BEFORE UPDATE ON ssh_keys
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE ssh_keys IS 'SSH public keys a user pushes and pulls with.';
COMMENT ON COLUMN ssh_keys.fingerprint IS 'OpenSSH SHA256 fingerprint (SHA256: + 43 base64 chars); globally unique.';
COMMENT ON COLUMN ssh_keys.key_type IS 'OpenSSH key algorithm name, e.g. ssh-ed25519.';

-- ---------------------------------------------------------------------------
-- Repositories
-- ---------------------------------------------------------------------------

CREATE TABLE repositories (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              text        NOT NULL
        CONSTRAINT repositories_name_format CHECK (
            name ~ '^[A-Za-z0-9_.-]{1,100}$' AND name NOT IN ('.', '..')),
    description       text        NOT NULL DEFAULT '',
    is_public         boolean     NOT NULL DEFAULT true,
    is_archived       boolean     NOT NULL DEFAULT false,
    default_branch    text        NOT NULL DEFAULT 'main'
        CONSTRAINT repositories_default_branch_not_empty CHECK (btrim(default_branch) <> ''),
    topics            text[]      NOT NULL DEFAULT '{}'
        CONSTRAINT repositories_topics_no_nulls CHECK (array_position(topics, NULL) IS NULL),
    next_issue_number bigint      NOT NULL DEFAULT 1
        CONSTRAINT repositories_next_issue_number_positive CHECK (next_issue_number > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX repositories_owner_name_lower_key ON repositories (owner_id, lower(name));
CREATE INDEX idx_repositories_owner ON repositories (owner_id, created_at DESC, id DESC);
CREATE INDEX idx_repositories_public ON repositories (created_at DESC, id DESC) WHERE is_public;
CREATE INDEX idx_repositories_topics ON repositories USING gin (topics);
CREATE TRIGGER repositories_set_updated_at BEFORE UPDATE ON repositories
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE repositories IS 'A Jujutsu repository owned by a user.';
COMMENT ON COLUMN repositories.name IS 'Unique per owner, case-insensitively.';
COMMENT ON COLUMN repositories.next_issue_number IS 'Next number handed out by get_next_issue_number(); shared by issues and pull requests.';

CREATE FUNCTION get_next_issue_number(repo_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
BEGIN
    UPDATE repositories
       SET next_issue_number = next_issue_number + 1
     WHERE id = repo_id
    RETURNING next_issue_number - 1 INTO issued;
    IF issued IS NULL THEN
        RAISE EXCEPTION 'repository % does not exist', repo_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN issued;
END;
$$;

COMMENT ON FUNCTION get_next_issue_number(bigint) IS
    'Hands out the next issue/PR number of a repository; the row lock serialises concurrent callers.';

CREATE TABLE branches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          text        NOT NULL
        CONSTRAINT branches_name_not_empty CHECK (btrim(name) <> ''),
    commit_id     text        NOT NULL
        CONSTRAINT branches_commit_id_format CHECK (commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    pusher_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT branches_repository_name_key UNIQUE (repository_id, name)
);
CREATE INDEX idx_branches_pusher ON branches (pusher_id);
CREATE TRIGGER branches_set_updated_at BEFORE UPDATE ON branches
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE branches IS 'Git-visible branches of a repository and the commit each points at.';
COMMENT ON COLUMN branches.commit_id IS 'Full commit hash, lower-case hex (SHA-1 or SHA-256).';

CREATE TABLE bookmarks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          text        NOT NULL
        CONSTRAINT bookmarks_name_not_empty CHECK (btrim(name) <> ''),
    change_id     text        NOT NULL
        CONSTRAINT bookmarks_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    commit_id     text
        CONSTRAINT bookmarks_commit_id_format CHECK (commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookmarks_repository_name_key UNIQUE (repository_id, name)
);
CREATE INDEX idx_bookmarks_change ON bookmarks (repository_id, change_id);
CREATE TRIGGER bookmarks_set_updated_at BEFORE UPDATE ON bookmarks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE bookmarks IS 'Jujutsu bookmarks: a name pointing at a change.';
COMMENT ON COLUMN bookmarks.change_id IS 'Full Jujutsu change id: 32 characters of reverse hex (k-z).';

CREATE TABLE protected_branches (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id           bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    pattern                 text        NOT NULL
        CONSTRAINT protected_branches_pattern_not_empty CHECK (btrim(pattern) <> ''),
    priority                integer     NOT NULL DEFAULT 0
        CONSTRAINT protected_branches_priority_non_negative CHECK (priority >= 0),
    required_approvals      integer     NOT NULL DEFAULT 0
        CONSTRAINT protected_branches_required_approvals_non_negative CHECK (required_approvals >= 0),
    enable_push             boolean     NOT NULL DEFAULT false,
    push_allowlist_user_ids bigint[]    NOT NULL DEFAULT '{}'
        CONSTRAINT protected_branches_push_allowlist_user_ids_no_nulls CHECK (array_position(push_allowlist_user_ids, NULL) IS NULL),
    enable_force_push       boolean     NOT NULL DEFAULT false,
    force_push_allowlist_user_ids bigint[] NOT NULL DEFAULT '{}'
        CONSTRAINT protected_branches_force_push_allowlist_user_ids_no_nulls CHECK (array_position(force_push_allowlist_user_ids, NULL) IS NULL),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT protected_branches_repository_pattern_key UNIQUE (repository_id, pattern)
);
CREATE INDEX idx_protected_branches_priority ON protected_branches (repository_id, priority DESC, id);
CREATE TRIGGER protected_branches_set_updated_at BEFORE UPDATE ON protected_branches
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE protected_branches IS 'Branch protection rules; the matching rule with the highest priority wins.';
COMMENT ON COLUMN protected_branches.pattern IS 'Branch name or glob where * matches any run of characters, e.g. release/*.';
COMMENT ON COLUMN protected_branches.enable_push IS 'When false nobody may push; when true only the allow list (everyone if it is empty).';
COMMENT ON COLUMN protected_branches.push_allowlist_user_ids IS 'User ids allowed to push when enable_push is true; empty means everyone with write access.';
COMMENT ON COLUMN protected_branches.force_push_allowlist_user_ids IS 'User ids allowed to force-push when enable_force_push is true; empty means everyone allowed to push.';

CREATE TABLE renamed_branches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    from_name     text        NOT NULL
        CONSTRAINT renamed_branches_from_name_not_empty CHECK (btrim(from_name) <> ''),
    to_name       text        NOT NULL
        CONSTRAINT renamed_branches_to_name_not_empty CHECK (btrim(to_name) <> ''),
    renamed_by    bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT renamed_branches_names_differ CHECK (from_name <> to_name)
);
CREATE INDEX idx_renamed_branches_from ON renamed_branches (repository_id, from_name, created_at DESC, id DESC);
CREATE INDEX idx_renamed_branches_renamed_by ON renamed_branches (renamed_by);

COMMENT ON TABLE renamed_branches IS 'Branch renames, so links and clones using an old name can be redirected.';

-- ---------------------------------------------------------------------------
-- Issues
-- ---------------------------------------------------------------------------

CREATE TABLE milestones (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    title         text        NOT NULL
        CONSTRAINT milestones_title_not_empty CHECK (btrim(title) <> ''),
    description   text        NOT NULL DEFAULT '',
    state         issue_state NOT NULL DEFAULT 'open',
    due_date      date,
    closed_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT milestones_repository_title_key UNIQUE (repository_id, title),
    CONSTRAINT milestones_id_repository_key UNIQUE (id, repository_id),
    CONSTRAINT milestones_closed_at_matches_state CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX idx_milestones_repo_state ON milestones (repository_id, state, due_date, id);
CREATE TRIGGER milestones_set_updated_at BEFORE UPDATE ON milestones
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE milestones IS 'A named goal grouping issues of one repository.';

CREATE TABLE issues (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    issue_number  bigint      NOT NULL
        CONSTRAINT issues_issue_number_positive CHECK (issue_number > 0),
    title         text        NOT NULL
        CONSTRAINT issues_title_not_empty CHECK (btrim(title) <> ''),
    body          text        NOT NULL DEFAULT '',
    state         issue_state NOT NULL DEFAULT 'open',
    author_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    milestone_id  bigint      REFERENCES milestones (id) ON DELETE SET NULL,
    due_date      date,
    closed_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issues_repository_number_key UNIQUE (repository_id, issue_number),
    CONSTRAINT issues_id_repository_key UNIQUE (id, repository_id),
    CONSTRAINT issues_milestone_same_repository FOREIGN KEY (milestone_id, repository_id)
        REFERENCES milestones (id, repository_id) ON DELETE SET NULL (milestone_id),
    CONSTRAINT issues_closed_at_matches_state CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX idx_issues_repo_state ON issues (repository_id, state, created_at DESC, id DESC);
CREATE INDEX idx_issues_author ON issues (author_id, created_at DESC, id DESC);
CREATE INDEX idx_issues_milestone ON issues (milestone_id, state);
CREATE INDEX idx_issues_due_date ON issues (repository_id, due_date) WHERE due_date IS NOT NULL;
CREATE TRIGGER issues_set_updated_at BEFORE UPDATE ON issues
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE issues IS 'An issue of a repository, numbered per repository.';
COMMENT ON COLUMN issues.issue_number IS 'Per-repository number from get_next_issue_number().';
COMMENT ON COLUMN issues.author_id IS 'NULL once the author account is deleted; the issue stays.';
COMMENT ON COLUMN issues.closed_at IS 'Set exactly when state is closed.';
COMMENT ON COLUMN issues.milestone_id IS 'A milestone of the same repository (checked by issues_milestone_same_repository).';

CREATE TABLE comments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id   bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    author_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    body       text        NOT NULL
        CONSTRAINT comments_body_not_empty CHECK (btrim(body) <> ''),
    edited_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_comments_issue ON comments (issue_id, created_at, id);
CREATE INDEX idx_comments_author ON comments (author_id);
CREATE TRIGGER comments_set_updated_at BEFORE UPDATE ON comments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE comments IS 'A comment on an issue.';
COMMENT ON COLUMN comments.edited_at IS 'When the body was last edited by a person (updated_at also moves for other changes).';

CREATE TABLE issue_assignees (
    issue_id    bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issue_id, user_id)
);
CREATE INDEX idx_issue_assignees_user ON issue_assignees (user_id);
CREATE INDEX idx_issue_assignees_assigned_by ON issue_assignees (assigned_by);

COMMENT ON TABLE issue_assignees IS 'Users assigned to an issue.';

CREATE TABLE labels (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          text        NOT NULL
        CONSTRAINT labels_name_not_empty CHECK (btrim(name) <> ''),
    color         text        NOT NULL DEFAULT '#ededed'
        CONSTRAINT labels_color_format CHECK (color ~ '^#[0-9a-f]{6}$'),
    description   text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT labels_repository_name_key UNIQUE (repository_id, name),
    CONSTRAINT labels_id_repository_key UNIQUE (id, repository_id)
);
CREATE TRIGGER labels_set_updated_at BEFORE UPDATE ON labels
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE labels IS 'A label defined in a repository.';
COMMENT ON COLUMN labels.color IS 'Lower-case #rrggbb.';

CREATE TABLE issue_labels (
    issue_id      bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    label_id      bigint      NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    repository_id bigint      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issue_id, label_id),
    CONSTRAINT issue_labels_issue_same_repository FOREIGN KEY (issue_id, repository_id)
        REFERENCES issues (id, repository_id) ON DELETE CASCADE,
    CONSTRAINT issue_labels_label_same_repository FOREIGN KEY (label_id, repository_id)
        REFERENCES labels (id, repository_id) ON DELETE CASCADE
);
CREATE INDEX idx_issue_labels_label ON issue_labels (label_id);

COMMENT ON TABLE issue_labels IS 'Labels attached to an issue.';
COMMENT ON COLUMN issue_labels.repository_id IS 'The repository of both the issue and the label: a label never crosses repositories.';

CREATE TABLE issue_dependencies (
    blocker_issue_id bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    blocked_issue_id bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    created_by       bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_issue_id, blocked_issue_id),
    CONSTRAINT issue_dependencies_no_self_dependency CHECK (blocker_issue_id <> blocked_issue_id)
);
CREATE INDEX idx_issue_dependencies_blocked ON issue_dependencies (blocked_issue_id);
CREATE INDEX idx_issue_dependencies_created_by ON issue_dependencies (created_by);

COMMENT ON TABLE issue_dependencies IS 'Blocker -> blocked edges between issues.';

CREATE TABLE subtasks (
    parent_issue_id bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    child_issue_id  bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    position        integer     NOT NULL DEFAULT 0
        CONSTRAINT subtasks_position_non_negative CHECK (position >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (parent_issue_id, child_issue_id),
    CONSTRAINT subtasks_one_parent UNIQUE (child_issue_id),
    CONSTRAINT subtasks_not_own_parent CHECK (parent_issue_id <> child_issue_id)
);

COMMENT ON TABLE subtasks IS 'Parent/child issue tree; a child has at most one parent.';

CREATE TABLE pinned_issues (
    issue_id      bigint      PRIMARY KEY,
    repository_id bigint      NOT NULL,
    position      integer     NOT NULL
        CONSTRAINT pinned_issues_position_non_negative CHECK (position >= 0),
    pinned_by     bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pinned_issues_issue_fkey FOREIGN KEY (issue_id, repository_id)
        REFERENCES issues (id, repository_id) ON DELETE CASCADE,
    CONSTRAINT pinned_issues_repository_position_key UNIQUE (repository_id, position)
        DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX idx_pinned_issues_pinned_by ON pinned_issues (pinned_by);

COMMENT ON TABLE pinned_issues IS 'Issues pinned to the top of a repository, in display order.';
COMMENT ON COLUMN pinned_issues.position IS 'Display order within the repository; unique, checked at statement end so one UPDATE can reorder.';

CREATE TABLE mentions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id          bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    comment_id        bigint      REFERENCES comments (id) ON DELETE CASCADE,
    mentioned_user_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentioned_by      bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_mentions_user ON mentions (mentioned_user_id, created_at DESC, id DESC);
CREATE INDEX idx_mentions_issue ON mentions (issue_id);
CREATE INDEX idx_mentions_comment ON mentions (comment_id);
CREATE INDEX idx_mentions_mentioned_by ON mentions (mentioned_by);

COMMENT ON TABLE mentions IS '@-mentions of a user in an issue body (comment_id NULL) or a comment.';

CREATE TABLE reactions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issue_id   bigint      REFERENCES issues (id) ON DELETE CASCADE,
    comment_id bigint      REFERENCES comments (id) ON DELETE CASCADE,
    emoji      text        NOT NULL
        CONSTRAINT reactions_emoji_length CHECK (char_length(emoji) BETWEEN 1 AND 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reactions_one_target CHECK (num_nonnulls(issue_id, comment_id) = 1)
);
CREATE UNIQUE INDEX reactions_issue_user_emoji_key ON reactions (issue_id, user_id, emoji)
    WHERE issue_id IS NOT NULL;
CREATE UNIQUE INDEX reactions_comment_user_emoji_key ON reactions (comment_id, user_id, emoji)
    WHERE comment_id IS NOT NULL;
CREATE INDEX idx_reactions_user ON reactions (user_id);

COMMENT ON TABLE reactions IS 'An emoji reaction by a user on exactly one issue or one comment.';

CREATE TABLE issue_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id   bigint           NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    actor_id   bigint           REFERENCES users (id) ON DELETE SET NULL,
    event_type issue_event_type NOT NULL,
    payload    jsonb            NOT NULL DEFAULT '{}',
    created_at timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX idx_issue_events_issue ON issue_events (issue_id, created_at, id);
CREATE INDEX idx_issue_events_actor ON issue_events (actor_id);

COMMENT ON TABLE issue_events IS 'Append-only history of what happened to an issue.';
COMMENT ON COLUMN issue_events.payload IS 'Event details, e.g. {"label_id": 3} or {"from": "old title", "to": "new"}.';

-- ---------------------------------------------------------------------------
-- Code review (landing queue)
-- ---------------------------------------------------------------------------

CREATE TABLE landing_queue (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id    bigint         NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    change_id        text           NOT NULL
        CONSTRAINT landing_queue_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    title            text           NOT NULL
        CONSTRAINT landing_queue_title_not_empty CHECK (btrim(title) <> ''),
    description      text           NOT NULL DEFAULT '',
    author_id        bigint         REFERENCES users (id) ON DELETE SET NULL,
    target_bookmark  text           NOT NULL DEFAULT 'main'
        CONSTRAINT landing_queue_target_bookmark_not_empty CHECK (btrim(target_bookmark) <> ''),
    stack_change_ids text[]         NOT NULL DEFAULT '{}'
        CONSTRAINT landing_queue_stack_change_ids_no_nulls CHECK (array_position(stack_change_ids, NULL) IS NULL),
    status           landing_status NOT NULL DEFAULT 'pending',
    has_conflicts    boolean        NOT NULL DEFAULT false,
    conflict_info    jsonb,
    landed_commit_id text
        CONSTRAINT landing_queue_landed_commit_id_format CHECK (landed_commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    landed_by        bigint         REFERENCES users (id) ON DELETE SET NULL,
    landed_at        timestamptz,
    created_at       timestamptz    NOT NULL DEFAULT now(),
    updated_at       timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT landing_queue_landed_at_matches_status CHECK ((status = 'landed') = (landed_at IS NOT NULL))
);
CREATE INDEX idx_landing_queue_repo_status ON landing_queue (repository_id, status, created_at DESC, id DESC);
CREATE INDEX idx_landing_queue_change ON landing_queue (repository_id, change_id);
CREATE INDEX idx_landing_queue_author ON landing_queue (author_id);
CREATE INDEX idx_landing_queue_landed_by ON landing_queue (landed_by);
CREATE UNIQUE INDEX landing_queue_open_change_key ON landing_queue (repository_id, change_id)
    WHERE status NOT IN ('landed', 'abandoned');
CREATE INDEX idx_landing_queue_queued ON landing_queue (repository_id, created_at, id)
    WHERE status = 'queued';
CREATE TRIGGER landing_queue_set_updated_at BEFORE UPDATE ON landing_queue
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE landing_queue IS 'Phabricator-style landing requests: a Jujutsu change (and its stack) waiting to land on a bookmark.';
COMMENT ON COLUMN landing_queue.stack_change_ids IS 'Change ids of the stack below this change, bottom first, that land with it.';
COMMENT ON COLUMN landing_queue.conflict_info IS 'Conflicted files and sides found by the last rebase attempt; NULL when none.';

CREATE TABLE landing_reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    landing_id  bigint       NOT NULL REFERENCES landing_queue (id) ON DELETE CASCADE,
    reviewer_id bigint       REFERENCES users (id) ON DELETE SET NULL,
    state       review_state NOT NULL DEFAULT 'pending',
    body        text         NOT NULL DEFAULT '',
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_landing_reviews_landing ON landing_reviews (landing_id, created_at, id);
CREATE INDEX idx_landing_reviews_reviewer ON landing_reviews (reviewer_id);
CREATE UNIQUE INDEX landing_reviews_landing_reviewer_key ON landing_reviews (landing_id, reviewer_id);
CREATE TRIGGER landing_reviews_set_updated_at BEFORE UPDATE ON landing_reviews
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE landing_reviews IS 'A reviewer''s verdict on a landing request.';

CREATE TABLE landing_line_comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    landing_id  bigint      NOT NULL REFERENCES landing_queue (id) ON DELETE CASCADE,
    author_id   bigint      REFERENCES users (id) ON DELETE SET NULL,
    file_path   text        NOT NULL
        CONSTRAINT landing_line_comments_file_path_not_empty CHECK (btrim(file_path) <> ''),
    line        integer     NOT NULL
        CONSTRAINT landing_line_comments_line_positive CHECK (line > 0),
    side        diff_side   NOT NULL DEFAULT 'right',
    body        text        NOT NULL
        CONSTRAINT landing_line_comments_body_not_empty CHECK (btrim(body) <> ''),
    is_resolved boolean     NOT NULL DEFAULT false,
    resolved_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    resolved_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT landing_line_comments_resolved_at_matches CHECK (is_resolved = (resolved_at IS NOT NULL))
);
CREATE INDEX idx_landing_line_comments_landing ON landing_line_comments (landing_id, file_path, line, id);
CREATE INDEX idx_landing_line_comments_author ON landing_line_comments (author_id);
CREATE INDEX idx_landing_line_comments_resolved_by ON landing_line_comments (resolved_by);
CREATE TRIGGER landing_line_comments_set_updated_at BEFORE UPDATE ON landing_line_comments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE landing_line_comments IS 'Inline review comments on a line of a landing request''s diff.';
COMMENT ON COLUMN landing_line_comments.side IS 'left = the old file, right = the new file.';

-- ---------------------------------------------------------------------------
-- Pull requests
-- ---------------------------------------------------------------------------

CREATE TABLE pull_requests (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    pr_number          bigint      NOT NULL
        CONSTRAINT pull_requests_pr_number_positive CHECK (pr_number > 0),
    title              text        NOT NULL
        CONSTRAINT pull_requests_title_not_empty CHECK (btrim(title) <> ''),
    body               text        NOT NULL DEFAULT '',
    author_id          bigint      REFERENCES users (id) ON DELETE SET NULL,
    head_repository_id bigint      REFERENCES repositories (id) ON DELETE SET NULL,
    head_branch        text        NOT NULL
        CONSTRAINT pull_requests_head_branch_not_empty CHECK (btrim(head_branch) <> ''),
    base_branch        text        NOT NULL
        CONSTRAINT pull_requests_base_branch_not_empty CHECK (btrim(base_branch) <> ''),
    state              pr_state    NOT NULL DEFAULT 'open',
    merge_base         text,
    merge_style        merge_style,
    merged_commit_id   text
        CONSTRAINT pull_requests_merged_commit_id_format CHECK (merged_commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    merged_by          bigint      REFERENCES users (id) ON DELETE SET NULL,
    merged_at          timestamptz,
    closed_at          timestamptz,
    has_conflicts      boolean     NOT NULL DEFAULT false,
    additions          integer     NOT NULL DEFAULT 0
        CONSTRAINT pull_requests_additions_non_negative CHECK (additions >= 0),
    deletions          integer     NOT NULL DEFAULT 0
        CONSTRAINT pull_requests_deletions_non_negative CHECK (deletions >= 0),
    changed_files      integer     NOT NULL DEFAULT 0
        CONSTRAINT pull_requests_changed_files_non_negative CHECK (changed_files >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pull_requests_base_number_key UNIQUE (base_repository_id, pr_number),
    CONSTRAINT pull_requests_merged_at_matches_state CHECK ((state = 'merged') = (merged_at IS NOT NULL))
);
CREATE INDEX idx_pull_requests_repo_state ON pull_requests (base_repository_id, state, created_at DESC, id DESC);
CREATE INDEX idx_pull_requests_head ON pull_requests (head_repository_id, head_branch);
CREATE INDEX idx_pull_requests_author ON pull_requests (author_id, created_at DESC, id DESC);
CREATE INDEX idx_pull_requests_merged_by ON pull_requests (merged_by);
CREATE TRIGGER pull_requests_set_updated_at BEFORE UPDATE ON pull_requests
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE pull_requests IS 'A request to merge a head branch into a base branch (git-style flow next to the landing queue).';
COMMENT ON COLUMN pull_requests.pr_number IS 'Per-repository number from get_next_issue_number(), shared with issues.';
COMMENT ON COLUMN pull_requests.head_repository_id IS 'Fork the changes come from; NULL if that repository was deleted.';
COMMENT ON COLUMN pull_requests.merge_base IS 'Commit id of the common ancestor when last computed.';

CREATE TABLE reviews (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pull_request_id bigint       NOT NULL REFERENCES pull_requests (id) ON DELETE CASCADE,
    reviewer_id     bigint       REFERENCES users (id) ON DELETE SET NULL,
    state           review_state NOT NULL DEFAULT 'pending',
    body            text         NOT NULL DEFAULT '',
    commit_id       text,
    submitted_at    timestamptz,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_reviews_pull_request ON reviews (pull_request_id, created_at, id);
CREATE INDEX idx_reviews_reviewer ON reviews (reviewer_id);
CREATE TRIGGER reviews_set_updated_at BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE reviews IS 'A review of a pull request.';
COMMENT ON COLUMN reviews.commit_id IS 'Head commit the review was made against.';

CREATE TABLE review_comments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id       bigint      NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    pull_request_id bigint      NOT NULL REFERENCES pull_requests (id) ON DELETE CASCADE,
    author_id       bigint      REFERENCES users (id) ON DELETE SET NULL,
    file_path       text        NOT NULL
        CONSTRAINT review_comments_file_path_not_empty CHECK (btrim(file_path) <> ''),
    line            integer     NOT NULL
        CONSTRAINT review_comments_line_positive CHECK (line > 0),
    side            diff_side   NOT NULL DEFAULT 'right',
    body            text        NOT NULL
        CONSTRAINT review_comments_body_not_empty CHECK (btrim(body) <> ''),
    commit_id       text,
    in_reply_to_id  bigint      REFERENCES review_comments (id) ON DELETE CASCADE,
    is_resolved     boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_review_comments_review ON review_comments (review_id, id);
CREATE INDEX idx_review_comments_pull_request ON review_comments (pull_request_id, file_path, line, id);
CREATE INDEX idx_review_comments_author ON review_comments (author_id);
CREATE INDEX idx_review_comments_reply ON review_comments (in_reply_to_id);
CREATE TRIGGER review_comments_set_updated_at BEFORE UPDATE ON review_comments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE review_comments IS 'Inline comments of a pull request review, optionally threaded.';

CREATE TABLE conflicts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id   bigint        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    pull_request_id bigint        REFERENCES pull_requests (id) ON DELETE CASCADE,
    change_id       text          NOT NULL
        CONSTRAINT conflicts_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    file_path       text          NOT NULL
        CONSTRAINT conflicts_file_path_not_empty CHECK (btrim(file_path) <> ''),
    kind            conflict_kind NOT NULL DEFAULT 'content',
    details         jsonb         NOT NULL DEFAULT '{}',
    resolved_by     bigint        REFERENCES users (id) ON DELETE SET NULL,
    resolved_at     timestamptz,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT conflicts_change_file_key UNIQUE (repository_id, change_id, file_path)
);
CREATE INDEX idx_conflicts_pull_request ON conflicts (pull_request_id);
CREATE INDEX idx_conflicts_unresolved ON conflicts (repository_id, created_at DESC, id DESC)
    WHERE resolved_at IS NULL;
CREATE INDEX idx_conflicts_resolved_by ON conflicts (resolved_by);
CREATE TRIGGER conflicts_set_updated_at BEFORE UPDATE ON conflicts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE conflicts IS 'Conflicted files of a Jujutsu change (jj records conflicts in commits instead of failing).';
COMMENT ON COLUMN conflicts.details IS 'Conflict sides and hunks as reported by jj.';

-- ---------------------------------------------------------------------------
-- Changes / VCS
-- ---------------------------------------------------------------------------

CREATE TABLE changes (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id     bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    change_id         text        NOT NULL
        CONSTRAINT changes_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    commit_id         text        NOT NULL
        CONSTRAINT changes_commit_id_format CHECK (commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    description       text        NOT NULL DEFAULT '',
    author_name       text        NOT NULL DEFAULT '',
    author_email      text        NOT NULL DEFAULT '',
    author_id         bigint      REFERENCES users (id) ON DELETE SET NULL,
    parent_change_ids text[]      NOT NULL DEFAULT '{}'
        CONSTRAINT changes_parent_change_ids_no_nulls CHECK (array_position(parent_change_ids, NULL) IS NULL),
    is_empty          boolean     NOT NULL DEFAULT false,
    has_conflict      boolean     NOT NULL DEFAULT false,
    authored_at       timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT changes_repository_change_key UNIQUE (repository_id, change_id)
);
CREATE INDEX idx_changes_repo_created ON changes (repository_id, created_at DESC, id DESC);
CREATE INDEX idx_changes_commit ON changes (repository_id, commit_id);
CREATE INDEX idx_changes_author ON changes (author_id);
CREATE INDEX idx_changes_parents ON changes USING gin (parent_change_ids);
CREATE TRIGGER changes_set_updated_at BEFORE UPDATE ON changes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE changes IS 'Jujutsu changes of a repository; a change keeps its change_id while its commit_id moves on rewrite.';
COMMENT ON COLUMN changes.commit_id IS 'Commit currently holding this change.';
COMMENT ON COLUMN changes.parent_change_ids IS 'Change ids of the parents, in jj order (several for a merge).';

CREATE TABLE file_trackers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint           NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    change_id     text             NOT NULL
        CONSTRAINT file_trackers_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    file_path     text             NOT NULL
        CONSTRAINT file_trackers_file_path_not_empty CHECK (btrim(file_path) <> ''),
    old_path      text,
    kind          file_change_kind NOT NULL,
    additions     integer          NOT NULL DEFAULT 0
        CONSTRAINT file_trackers_additions_non_negative CHECK (additions >= 0),
    deletions     integer          NOT NULL DEFAULT 0
        CONSTRAINT file_trackers_deletions_non_negative CHECK (deletions >= 0),
    created_at    timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT file_trackers_change_path_key UNIQUE (repository_id, change_id, file_path),
    CONSTRAINT file_trackers_old_path_iff_renamed CHECK ((kind = 'renamed') = (old_path IS NOT NULL))
);

COMMENT ON TABLE file_trackers IS 'Files touched by a change, with per-file diff stats.';
COMMENT ON COLUMN file_trackers.old_path IS 'Previous path, set exactly when kind is renamed.';

CREATE TABLE jj_operations (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id        bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    operation_id         text        NOT NULL
        CONSTRAINT jj_operations_operation_id_format CHECK (operation_id ~ '^[0-9a-f]{12,128}$'),
    parent_operation_ids text[]      NOT NULL DEFAULT '{}'
        CONSTRAINT jj_operations_parent_operation_ids_no_nulls CHECK (array_position(parent_operation_ids, NULL) IS NULL),
    description          text        NOT NULL DEFAULT '',
    user_id              bigint      REFERENCES users (id) ON DELETE SET NULL,
    metadata             jsonb       NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jj_operations_repository_operation_key UNIQUE (repository_id, operation_id)
);
CREATE INDEX idx_jj_operations_repo_created ON jj_operations (repository_id, created_at DESC, id DESC);
CREATE INDEX idx_jj_operations_user ON jj_operations (user_id);

COMMENT ON TABLE jj_operations IS 'The Jujutsu operation log of a repository (what undo walks back).';
COMMENT ON COLUMN jj_operations.metadata IS 'Operation tags and arguments as jj reports them.';

CREATE TABLE snapshot_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    change_id     text        NOT NULL
        CONSTRAINT snapshot_history_change_id_format CHECK (change_id ~ '^[k-z]{32}$'),
    commit_id     text        NOT NULL
        CONSTRAINT snapshot_history_commit_id_format CHECK (commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    operation_id  text,
    description   text        NOT NULL DEFAULT '',
    created_by    bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_snapshot_history_repo_created ON snapshot_history (repository_id, created_at DESC, id DESC);
CREATE INDEX idx_snapshot_history_change ON snapshot_history (repository_id, change_id);
CREATE INDEX idx_snapshot_history_created_by ON snapshot_history (created_by);

COMMENT ON TABLE snapshot_history IS 'Working-copy snapshots taken by jj, so an edit (e.g. by an agent) can be restored.';
COMMENT ON COLUMN snapshot_history.operation_id IS 'jj operation that recorded the snapshot, when known.';

-- ---------------------------------------------------------------------------
-- Collaboration
-- ---------------------------------------------------------------------------

CREATE TABLE stars (
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, repository_id)
);
CREATE INDEX idx_stars_repository ON stars (repository_id, created_at DESC, user_id DESC);
CREATE INDEX idx_stars_user ON stars (user_id, created_at DESC, repository_id DESC);

COMMENT ON TABLE stars IS 'A user starring a repository.';

CREATE TABLE watches (
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    mode          watch_mode  NOT NULL DEFAULT 'watching',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, repository_id)
);
CREATE INDEX idx_watches_repository ON watches (repository_id, created_at DESC, user_id DESC);
CREATE TRIGGER watches_set_updated_at BEFORE UPDATE ON watches
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE watches IS 'A user''s notification subscription to a repository.';
COMMENT ON COLUMN watches.mode IS 'watching = all activity, participating = only threads the user is in, ignoring = nothing.';

-- ---------------------------------------------------------------------------
-- Agent
-- ---------------------------------------------------------------------------

CREATE TABLE sessions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint         REFERENCES users (id) ON DELETE CASCADE,
    repository_id     bigint         REFERENCES repositories (id) ON DELETE SET NULL,
    parent_session_id bigint         REFERENCES sessions (id) ON DELETE SET NULL,
    title             text           NOT NULL DEFAULT '',
    directory         text           NOT NULL
        CONSTRAINT sessions_directory_not_empty CHECK (btrim(directory) <> ''),
    model             text           NOT NULL
        CONSTRAINT sessions_model_not_empty CHECK (btrim(model) <> ''),
    status            session_status NOT NULL DEFAULT 'active',
    token_count       bigint         NOT NULL DEFAULT 0
        CONSTRAINT sessions_token_count_non_negative CHECK (token_count >= 0),
    message_count     integer        NOT NULL DEFAULT 0
        CONSTRAINT sessions_message_count_non_negative CHECK (message_count >= 0),
    created_at        timestamptz    NOT NULL DEFAULT now(),
    updated_at        timestamptz    NOT NULL DEFAULT now()
);
CREATE INDEX idx_sessions_user ON sessions (user_id, created_at DESC, id DESC);
CREATE INDEX idx_sessions_repository ON sessions (repository_id);
CREATE INDEX idx_sessions_parent ON sessions (parent_session_id);
CREATE TRIGGER sessions_set_updated_at BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE sessions IS 'An AI-agent session: a conversation working in a directory with one model.';
COMMENT ON COLUMN sessions.user_id IS 'Who started the session; NULL for system-started sessions.';
COMMENT ON COLUMN sessions.parent_session_id IS 'Session this one was forked from.';
COMMENT ON COLUMN sessions.token_count IS 'Running total of input + output tokens across the session.';
COMMENT ON COLUMN sessions.message_count IS 'Messages appended so far: the next message position, bumped by the append itself so concurrent appends never collide.';

CREATE TABLE messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id    bigint         NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position      integer        NOT NULL
        CONSTRAINT messages_position_non_negative CHECK (position >= 0),
    role          message_role   NOT NULL,
    status        message_status NOT NULL DEFAULT 'pending',
    model         text,
    input_tokens  bigint         NOT NULL DEFAULT 0
        CONSTRAINT messages_input_tokens_non_negative CHECK (input_tokens >= 0),
    output_tokens bigint         NOT NULL DEFAULT 0
        CONSTRAINT messages_output_tokens_non_negative CHECK (output_tokens >= 0),
    error         text,
    part_count    integer        NOT NULL DEFAULT 0
        CONSTRAINT messages_part_count_non_negative CHECK (part_count >= 0),
    created_at    timestamptz    NOT NULL DEFAULT now(),
    updated_at    timestamptz    NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_messages_session ON messages (session_id, position);
CREATE TRIGGER messages_set_updated_at BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE messages IS 'A message of an agent session, ordered by position.';
COMMENT ON COLUMN messages.position IS '0-based order within the session; unique per session.';
COMMENT ON COLUMN messages.model IS 'Model that produced an assistant message.';
COMMENT ON COLUMN messages.part_count IS 'Parts appended so far: the next part position, bumped by the append itself.';

CREATE TABLE parts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id bigint      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position   integer     NOT NULL
        CONSTRAINT parts_position_non_negative CHECK (position >= 0),
    kind       part_kind   NOT NULL,
    content    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_parts_message ON parts (message_id, position);
CREATE TRIGGER parts_set_updated_at BEFORE UPDATE ON parts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE parts IS 'A piece of a message (text, tool call, tool result, ...), ordered by position.';
COMMENT ON COLUMN parts.content IS 'Kind-specific payload, e.g. {"text": ...} or {"tool": ..., "input": {...}}.';

-- ---------------------------------------------------------------------------
-- Workflows
-- ---------------------------------------------------------------------------

CREATE TABLE workflow_definitions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          text        NOT NULL
        CONSTRAINT workflow_definitions_name_not_empty CHECK (btrim(name) <> ''),
    file_path     text        NOT NULL DEFAULT '',
    triggers      jsonb       NOT NULL DEFAULT '[]',
    plan          jsonb       NOT NULL,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_definitions_repository_name_key UNIQUE (repository_id, name)
);
CREATE TRIGGER workflow_definitions_set_updated_at BEFORE UPDATE ON workflow_definitions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE workflow_definitions IS 'A workflow of a repository: when it triggers and its plan of steps.';
COMMENT ON COLUMN workflow_definitions.triggers IS 'Events that start a run, e.g. [{"event": "push", "bookmarks": ["main"]}].';
COMMENT ON COLUMN workflow_definitions.plan IS 'The step DAG: {"steps": [{"name": ..., "run": ..., "needs": [...]}]}.';

CREATE TABLE runner_pool (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text          NOT NULL
        CONSTRAINT runner_pool_name_not_empty CHECK (btrim(name) <> ''),
    labels            text[]        NOT NULL DEFAULT '{}'
        CONSTRAINT runner_pool_labels_no_nulls CHECK (array_position(labels, NULL) IS NULL),
    status            runner_status NOT NULL DEFAULT 'idle',
    claimed_run_id    bigint,
    last_heartbeat_at timestamptz   NOT NULL DEFAULT now(),
    created_at        timestamptz   NOT NULL DEFAULT now(),
    updated_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT runner_pool_name_key UNIQUE (name),
    CONSTRAINT runner_pool_claimed_run_key UNIQUE (claimed_run_id),
    CONSTRAINT runner_pool_claim_only_when_busy CHECK (claimed_run_id IS NULL OR status = 'busy')
);
CREATE INDEX idx_runner_pool_idle ON runner_pool (last_heartbeat_at DESC, id) WHERE status = 'idle';
CREATE TRIGGER runner_pool_set_updated_at BEFORE UPDATE ON runner_pool
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE runner_pool IS 'Registry of warm runners that execute workflow runs.';
COMMENT ON COLUMN runner_pool.claimed_run_id IS 'Run this runner is executing; set only while busy.';

CREATE TABLE workflow_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint              NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    definition_id bigint              REFERENCES workflow_definitions (id) ON DELETE SET NULL,
    trigger_event text                NOT NULL
        CONSTRAINT workflow_runs_trigger_event_not_empty CHECK (btrim(trigger_event) <> ''),
    ref           text,
    commit_id     text
        CONSTRAINT workflow_runs_commit_id_format CHECK (commit_id ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    inputs        jsonb               NOT NULL DEFAULT '{}',
    status        workflow_run_status NOT NULL DEFAULT 'queued',
    triggered_by  bigint              REFERENCES users (id) ON DELETE SET NULL,
    runner_id     bigint              REFERENCES runner_pool (id) ON DELETE SET NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    created_at    timestamptz         NOT NULL DEFAULT now(),
    updated_at    timestamptz         NOT NULL DEFAULT now(),
    CONSTRAINT workflow_runs_finished_after_start CHECK (finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at),
    CONSTRAINT workflow_runs_finished_iff_concluded CHECK (
        (finished_at IS NOT NULL) = (status IN ('succeeded', 'failed', 'cancelled', 'timed_out'))),
    CONSTRAINT workflow_runs_running_has_started CHECK (status <> 'running' OR started_at IS NOT NULL)
);
CREATE INDEX idx_workflow_runs_repo_status ON workflow_runs (repository_id, status, created_at DESC, id DESC);
-- Only claimable runs: a claimed run stays queued (runner set) until it starts, and
-- skipping those made each claim slower as claims piled up.
CREATE INDEX idx_workflow_runs_queued ON workflow_runs (created_at, id)
    WHERE status = 'queued' AND runner_id IS NULL;
CREATE INDEX idx_workflow_runs_repo_created ON workflow_runs (repository_id, created_at DESC, id DESC);
CREATE INDEX idx_workflow_runs_definition ON workflow_runs (definition_id);
CREATE INDEX idx_workflow_runs_triggered_by ON workflow_runs (triggered_by);
CREATE INDEX idx_workflow_runs_runner ON workflow_runs (runner_id);
CREATE TRIGGER workflow_runs_set_updated_at BEFORE UPDATE ON workflow_runs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE runner_pool
    ADD CONSTRAINT runner_pool_claimed_run_fkey FOREIGN KEY (claimed_run_id)
        REFERENCES workflow_runs (id) ON DELETE SET NULL;

COMMENT ON TABLE workflow_runs IS 'One execution of a workflow; queued runs are claimed by runners.';
COMMENT ON COLUMN workflow_runs.ref IS 'Bookmark, branch or change the run was triggered for.';
COMMENT ON COLUMN workflow_runs.runner_id IS 'Runner that claimed the run; kept after it finishes.';

CREATE TABLE workflow_steps (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint               NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    name        text                 NOT NULL
        CONSTRAINT workflow_steps_name_not_empty CHECK (btrim(name) <> ''),
    position    integer              NOT NULL
        CONSTRAINT workflow_steps_position_non_negative CHECK (position >= 0),
    depends_on  text[]               NOT NULL DEFAULT '{}'
        CONSTRAINT workflow_steps_depends_on_no_nulls CHECK (array_position(depends_on, NULL) IS NULL),
    status      workflow_step_status NOT NULL DEFAULT 'pending',
    exit_code   integer,
    started_at  timestamptz,
    finished_at timestamptz,
    created_at  timestamptz          NOT NULL DEFAULT now(),
    updated_at  timestamptz          NOT NULL DEFAULT now(),
    CONSTRAINT workflow_steps_run_name_key UNIQUE (run_id, name),
    CONSTRAINT workflow_steps_run_position_key UNIQUE (run_id, position),
    CONSTRAINT workflow_steps_id_run_key UNIQUE (id, run_id),
    CONSTRAINT workflow_steps_finished_iff_concluded CHECK (
        (finished_at IS NOT NULL) = (status IN ('succeeded', 'failed', 'skipped', 'cancelled'))),
    CONSTRAINT workflow_steps_running_has_started CHECK (status <> 'running' OR started_at IS NOT NULL)
);
CREATE TRIGGER workflow_steps_set_updated_at BEFORE UPDATE ON workflow_steps
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE workflow_steps IS 'A step of a workflow run (a node of the plan DAG).';
COMMENT ON COLUMN workflow_steps.depends_on IS 'Names of the steps of the same run that must succeed first.';

CREATE TABLE workflow_logs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     bigint      NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id    bigint,
    stream     log_stream  NOT NULL DEFAULT 'stdout',
    content    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The step must exist and belong to this run; also deletes its lines with it. (No
    -- separate step_id foreign key: this one implies it, and each FK costs COPY a trigger.)
    CONSTRAINT workflow_logs_step_of_run_fkey FOREIGN KEY (step_id, run_id)
        REFERENCES workflow_steps (id, run_id) ON DELETE CASCADE
);
CREATE INDEX idx_workflow_logs_run ON workflow_logs (run_id, id);
CREATE INDEX idx_workflow_logs_step ON workflow_logs (step_id, id);

COMMENT ON TABLE workflow_logs IS 'Append-only log lines of a run; id order is output order.';
COMMENT ON COLUMN workflow_logs.step_id IS 'Step that wrote the line; NULL for run-level lines.';

-- ---------------------------------------------------------------------------
-- Infrastructure
-- ---------------------------------------------------------------------------

CREATE TABLE llm_usage (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint      REFERENCES users (id) ON DELETE SET NULL,
    session_id      bigint      REFERENCES sessions (id) ON DELETE SET NULL,
    workflow_run_id bigint      REFERENCES workflow_runs (id) ON DELETE SET NULL,
    provider        text        NOT NULL DEFAULT '',
    model           text        NOT NULL
        CONSTRAINT llm_usage_model_not_empty CHECK (btrim(model) <> ''),
    input_tokens    bigint      NOT NULL DEFAULT 0
        CONSTRAINT llm_usage_input_tokens_non_negative CHECK (input_tokens >= 0),
    output_tokens   bigint      NOT NULL DEFAULT 0
        CONSTRAINT llm_usage_output_tokens_non_negative CHECK (output_tokens >= 0),
    cost_micro_usd  bigint      NOT NULL DEFAULT 0
        CONSTRAINT llm_usage_cost_non_negative CHECK (cost_micro_usd >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_llm_usage_created ON llm_usage (created_at, model);
CREATE INDEX idx_llm_usage_model ON llm_usage (model, created_at);
CREATE INDEX idx_llm_usage_session ON llm_usage (session_id);
CREATE INDEX idx_llm_usage_workflow_run ON llm_usage (workflow_run_id);
CREATE INDEX idx_llm_usage_user ON llm_usage (user_id, created_at);

COMMENT ON TABLE llm_usage IS 'One LLM call''s token usage and cost, for billing and budgets.';
COMMENT ON COLUMN llm_usage.cost_micro_usd IS 'Cost in millionths of a US dollar.';

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

CREATE TABLE commit_statuses (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id   bigint       NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    commit_sha      text         NOT NULL
        CONSTRAINT commit_statuses_commit_sha_format CHECK (commit_sha ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    context         text         NOT NULL DEFAULT 'default'
        CONSTRAINT commit_statuses_context_not_empty CHECK (btrim(context) <> ''),
    state           commit_state NOT NULL,
    target_url      text,
    description     text         NOT NULL DEFAULT '',
    creator_id      bigint       REFERENCES users (id) ON DELETE SET NULL,
    workflow_run_id bigint       REFERENCES workflow_runs (id) ON DELETE SET NULL,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT commit_statuses_commit_context_key UNIQUE (repository_id, commit_sha, context)
);
CREATE INDEX idx_commit_statuses_creator ON commit_statuses (creator_id);
CREATE INDEX idx_commit_statuses_workflow_run ON commit_statuses (workflow_run_id);
CREATE TRIGGER commit_statuses_set_updated_at BEFORE UPDATE ON commit_statuses
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE commit_statuses IS 'CI status of a commit, one row per (commit, context), e.g. ci/build.';
COMMENT ON COLUMN commit_statuses.context IS 'Which check reported, e.g. ci/build; one current status per commit and context.';
