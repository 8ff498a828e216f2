-- Scopes of API keys (a comma-separated list: read, control, admin).
-- Keys made before scopes existed could do everything: they become admin.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'admin';
