-- Editors, their sessions, the login limiter and the audit log (issue 4).

CREATE TABLE editors (
    id                  INTEGER PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,      -- stored lower-case
    password_hash       TEXT NOT NULL,             -- Argon2id, in its PHC string form
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- Server-side sessions. The signed cookie carries a random token and this
-- table its SHA-256: deleting a row ends the session even for a copied
-- cookie, and a leaked database holds no usable session.
CREATE TABLE editor_sessions (
    token_hash TEXT PRIMARY KEY,
    editor_id  INTEGER NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,                      -- Unix seconds; the absolute timeout counts from here
    seen_at    REAL NOT NULL                       -- the idle timeout counts from here
);
CREATE INDEX editor_sessions_by_editor ON editor_sessions (editor_id);

-- Login attempts per key ('account:<email>', 'address:<client>',
-- 'device:<id>'). Kept here rather than in memory so the limits hold across
-- gunicorn's workers.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    attempts      INTEGER NOT NULL,
    blocked_until REAL NOT NULL,                   -- Unix seconds; 0 when not blocked
    last_at       REAL NOT NULL
);
CREATE INDEX login_throttle_by_age ON login_throttle (last_at);

-- Who did what to which statement, and when. Append-only like revisions.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,                    -- UTC instant
    actor        TEXT NOT NULL,                    -- an editor's email, or 'schedule'
    action       TEXT NOT NULL,
    statement_id TEXT REFERENCES statements (id),
    revision_id  TEXT REFERENCES revisions (id),
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_statement ON audit_log (statement_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
