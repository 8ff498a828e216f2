-- Who issued a setup token (a daemon's instance name): a daemon's new token
-- revokes only its own older ones, so daemons sharing a database each keep
-- a working token, and a token printed by an earlier start of the same
-- daemon stops working.
ALTER TABLE setup_tokens ADD COLUMN issuer TEXT;
