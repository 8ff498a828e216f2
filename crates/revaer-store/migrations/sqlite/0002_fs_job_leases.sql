-- Leases on FsOps jobs: a runner claims a job until lease_until; a runner
-- that crashed leaves an expired lease, which lets another take the job
-- over. Several instances on one database never run a job twice at once.
ALTER TABLE fs_jobs ADD COLUMN owner TEXT;
ALTER TABLE fs_jobs ADD COLUMN lease_until BIGINT;
