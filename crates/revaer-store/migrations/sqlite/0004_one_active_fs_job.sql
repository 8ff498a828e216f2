-- At most one FsOps job per torrent waits or runs at a time: two jobs of
-- one torrent would share its library folder and work folder.
CREATE UNIQUE INDEX fs_jobs_one_active ON fs_jobs (info_hash)
    WHERE status IN ('pending', 'running');
