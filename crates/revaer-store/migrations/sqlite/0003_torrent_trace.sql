-- The trace id of the request that added a torrent, so that work done for
-- it later (FsOps jobs, their events) can be tied back to that request.
ALTER TABLE torrents ADD COLUMN trace_id TEXT;
