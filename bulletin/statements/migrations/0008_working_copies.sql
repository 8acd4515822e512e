-- Working copies: what an editor has typed into a statement's form and not
-- yet saved, kept so that nothing typed is lost (an ended session, a lost
-- connection, a closed tab). One per editor and statement; '' stands for a
-- statement not yet created. Not a revision: never audited, never in the
-- change log, never public. Overwritten as the editor types; saving the form
-- deletes it. (IF NOT EXISTS: a database whose user_version was set back by
-- hand replays this file.)
CREATE TABLE IF NOT EXISTS working_copies (
    editor_id     INTEGER NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    statement_key TEXT NOT NULL,                   -- a statement's id, or '' for a new one
    fields        TEXT NOT NULL,                   -- JSON object: the form's fields as typed
    saved_at      TEXT NOT NULL,                   -- UTC instant of the last overwrite
    PRIMARY KEY (editor_id, statement_key)
);
