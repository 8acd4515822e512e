-- Digests of the sync files kept across restarts: a chunk's or snapshot's
-- name, SHA-256 and size, keyed by the SHA-256 of everything that decides
-- its bytes (the build, interface language, time zone, base URL, mount
-- prefix, signing state, epoch, the range and the (id, change_seq) pairs in
-- it), so that the first /sync/index.json after a restart renders no chunk
-- that did not change. Not a statement write: the same key always names the
-- same bytes, so a row is only work saved, written by
-- bulletin.site.sync_files when the database takes it at once.
CREATE TABLE IF NOT EXISTS sync_digests (
    key        TEXT NOT NULL PRIMARY KEY,  -- hex SHA-256 of what decides the file's bytes
    variant    TEXT NOT NULL,              -- hex digest of the context alone (stale rows of it are pruned)
    generation TEXT NOT NULL,              -- hex digest of the build and signing state
    epoch      TEXT NOT NULL,
    name       TEXT NOT NULL,              -- the file's name, from its content's digest
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    kept_at    TEXT NOT NULL               -- UTC instant
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sync_digests_by_variant ON sync_digests (variant);
CREATE INDEX IF NOT EXISTS sync_digests_by_generation ON sync_digests (generation, kept_at);
-- The index lists every chunk's (id, change_seq) pairs at each publication: read from
-- this index alone, without a lookup of each statement's row (a third of the time at
-- 100,000 statements).
CREATE INDEX IF NOT EXISTS statements_change_seq_id ON statements (change_seq, id);
