-- The epoch: which run of the change log a sequence number belongs to.
--
-- Restoring an older copy of the database takes the change sequence back,
-- and the next publication would reuse numbers that ETags, kept pages and
-- devices' cursors were already built on. Every restore gives the database
-- a new epoch (kept in `meta` under 'epoch'), and ETags and cursors carry
-- it, so no (epoch, sequence) pair ever names two different states.
--
-- A database that already served cursors starts with its id as its epoch:
-- cursors carried the id's first 12 hex digits, so they keep syncing. A new
-- database gets its epoch from the migration run, once its id exists.
INSERT OR IGNORE INTO meta (key, value)
SELECT 'epoch', value FROM meta WHERE key = 'database_id';
