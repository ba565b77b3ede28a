-- API-key usage audit (see `crate::usage`): one row per key that has been used, merged into by
-- each instance's periodic flush (one transaction per flush). `record` holds the per-day counts
-- and the last 100 uses in the same binary encoding as the embedded database; the columns beside
-- it are for queries. A key's usage goes with the key (and so with its user).
CREATE TABLE api_key_usage (
    key_id UUID PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    total_uses BIGINT NOT NULL,
    last_used_at BIGINT,
    record BYTEA NOT NULL
);
