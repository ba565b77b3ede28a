-- API-key policies (scopes, flow restriction, per-key rate limit): one JSON object per key,
-- NULL for a full-privilege key (every key created before this migration). The column is what
-- the server reads; `record` keeps the rest of the key as before.
ALTER TABLE api_keys ADD COLUMN policy JSONB;
