-- Revaer schema, version 1 (PostgreSQL). Keep in step with ../sqlite.

-- One row: the settings revision counter. Every committed change to the
-- settings increments it in the same transaction, which orders all changes.
CREATE TABLE settings_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL,
    committed_at BIGINT NOT NULL
);
INSERT INTO settings_meta (id, revision, committed_at) VALUES (1, 0, 0);

-- The documents (app_profile, engine_profile, fs_policy, categories) as
-- JSON. A missing document means its defaults.
CREATE TABLE settings_documents (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL
);

-- Every committed change: who, why, the changed documents before and after.
CREATE TABLE settings_history (
    revision BIGINT PRIMARY KEY,
    changed_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    old_body TEXT NOT NULL,
    new_body TEXT NOT NULL
);

-- One-time setup tokens, stored as SHA-256 hashes.
CREATE TABLE setup_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    revoked_at BIGINT
);

-- API keys: the secret is stored as a SHA-256 hash only.
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    secret_hash BYTEA NOT NULL,
    rate_limit_burst BIGINT,
    rate_limit_per_seconds BIGINT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    enabled BIGINT NOT NULL DEFAULT 1,
    revoked_at BIGINT,
    rotated_at BIGINT
);

-- Torrents and where they came from, so that one can always be re-added.
CREATE TABLE torrents (
    info_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    save_path TEXT NOT NULL,
    source_magnet TEXT,
    source_metainfo BYTEA,
    added_at BIGINT NOT NULL,
    completed_at BIGINT,
    CHECK (source_magnet IS NOT NULL OR source_metainfo IS NOT NULL)
);

-- One row per post-processing run of a torrent.
CREATE TABLE fs_jobs (
    id BIGSERIAL PRIMARY KEY,
    info_hash TEXT NOT NULL REFERENCES torrents (info_hash) ON DELETE CASCADE,
    source_path TEXT NOT NULL,
    destination TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at BIGINT,
    journal TEXT NOT NULL DEFAULT '[]',
    trace_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX fs_jobs_due ON fs_jobs (status, next_attempt_at);
CREATE INDEX fs_jobs_torrent ON fs_jobs (info_hash);
