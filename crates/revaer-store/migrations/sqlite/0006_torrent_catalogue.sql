-- The torrents table is the catalogue of which daemon holds which torrent
-- (ADR 0006): one writer per daemon keeps it from the engine's events. The
-- holder is that daemon's instance name; rows written before this
-- migration have none until their daemon next starts and reconciles.
-- `source_magnet` now holds a magnet link built from the torrent's id and
-- name; the .torrent itself is the engine's, in its resume directory.
ALTER TABLE torrents ADD COLUMN instance TEXT;
CREATE INDEX torrents_instance ON torrents (instance);
