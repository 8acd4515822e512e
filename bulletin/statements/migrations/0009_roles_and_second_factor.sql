-- Roles and a second factor for editors.
--
-- Every account so far could write, publish and withdraw, and accounts were
-- managed only by the operator's commands: existing accounts become
-- publishers, which is exactly those powers. The operator makes the first
-- administrator with `flask --app app set-role EMAIL admin`.
ALTER TABLE editors ADD COLUMN role TEXT NOT NULL DEFAULT 'publisher'
    CHECK (role IN ('writer', 'publisher', 'admin'));

-- TOTP (RFC 6238). The secret (base32) is chosen when enrolment starts and
-- counts only once second_factor_at is set, after the editor typed a code
-- from it. totp_last_step is the time step of the last code accepted: a code
-- is accepted only for a later step, so none works twice.
ALTER TABLE editors ADD COLUMN totp_secret TEXT;
ALTER TABLE editors ADD COLUMN second_factor_at TEXT;
ALTER TABLE editors ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes, shown once at enrolment and kept only as SHA-256
-- hashes (they are random, 60 bits each: no slow hash needed). A used code
-- keeps its row with used_at set, so the page can say how many are left.
CREATE TABLE editor_recovery_codes (
    id        INTEGER PRIMARY KEY,
    editor_id INTEGER NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TEXT
);
CREATE INDEX editor_recovery_codes_by_editor ON editor_recovery_codes (editor_id);
