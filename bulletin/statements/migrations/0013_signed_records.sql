-- Each statement's current signed record, kept whole: the envelope's bytes
-- exactly as the sync files ship it, with what it stands for (the
-- statement's change position and the epoch number it was made in) and the
-- key that signed it. Sync files are assembled from these bytes and the API
-- carries them as `signed`, so a record is rendered and signed once, not
-- each time a file holding it is rewritten. Not a statement write: a row
-- only saves work (the same statement at the same position and epoch makes
-- the same payload), written by bulletin.site.signed_records when the
-- database takes it. A row stands while its position and epoch are the
-- statement's current ones and its key may sign. Public values only.
CREATE TABLE IF NOT EXISTS signed_records (
    statement_id TEXT NOT NULL PRIMARY KEY,
    change_seq   INTEGER NOT NULL,   -- the statement's change position the record is of
    epoch        INTEGER NOT NULL,   -- the epoch number in its payload
    kid          TEXT NOT NULL,      -- the key that signed it
    envelope     TEXT NOT NULL,      -- {"payload","sig","kid"}, compact, as shipped
    made_at      TEXT NOT NULL       -- UTC instant
) WITHOUT ROWID;
