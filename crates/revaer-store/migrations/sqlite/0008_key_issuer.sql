-- Which key issued each API key (NULL: issued on the host or at setup).
-- Revoking a key revokes the keys it issued, and a key issued by a
-- rate-limited key spends from its issuer's budget too.
ALTER TABLE api_keys ADD COLUMN issued_by TEXT;
CREATE INDEX api_keys_issued_by ON api_keys (issued_by);
