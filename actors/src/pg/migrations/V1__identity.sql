-- Identity: users, API keys, global variables. Each row keeps the record in the same binary
-- encoding as the embedded database (`record`); the columns beside it carry what the database
-- must enforce or index: uniqueness, ownership (cascading deletes) and sort keys.
-- Password hashes (argon2), API-key hashes (keyed BLAKE3) and sealed credential values are all
-- inside `record`: nothing secret is stored in plaintext.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL,
    -- Langflow 1.13 compares usernames case-insensitively for uniqueness.
    username_key TEXT NOT NULL UNIQUE,
    is_superuser BOOLEAN NOT NULL,
    create_at BIGINT NOT NULL,
    record BYTEA NOT NULL
);

CREATE TABLE api_keys (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    record BYTEA NOT NULL
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);

CREATE TABLE variables (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    record BYTEA NOT NULL,
    UNIQUE (user_id, name)
);
