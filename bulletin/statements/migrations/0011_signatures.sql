-- Signatures kept: the online key's Ed25519 signature of a statement's
-- signed record, keyed by the SHA-256 of the record's canonical bytes and
-- the key, so the same record is never signed again on every request.
-- Not a statement write: a signature adds nothing readers read that the
-- record does not already say (Ed25519 signing is deterministic: the same
-- key gives the same bytes again), so it is a cache of work, written by
-- bulletin.site.signatures. Public values only: no private key is stored
-- in the database, and so none in a backup.
CREATE TABLE IF NOT EXISTS signatures (
    digest       TEXT NOT NULL,                    -- hex SHA-256 of the payload's UTF-8 bytes
    kid          TEXT NOT NULL,                    -- the signing key's id
    sig          TEXT NOT NULL,                    -- base64url of the 64-byte signature
    statement_id TEXT NOT NULL,                    -- whose record it is (for "not yet signed" look-ups)
    signed_at    TEXT NOT NULL,                    -- UTC instant
    PRIMARY KEY (digest, kid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signatures_by_statement ON signatures (statement_id);
