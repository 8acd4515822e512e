-- Each revision's description (the start of its plain text, as pages and
-- link previews show it), computed once when the revision is written.
-- Deriving it from the HTML on every page view cost seconds on a long body.
--
-- Revisions stay append-only for their content; the description may be
-- filled once, which is how the rows written before this migration get
-- theirs (by the backfill that runs right after this file, see
-- migrations/__init__.py).
DROP TRIGGER revisions_no_update;
ALTER TABLE revisions ADD COLUMN description TEXT;
CREATE TRIGGER revisions_no_update
BEFORE UPDATE OF id, statement_id, number, source_text, source_format, body_html, title, summary,
                 correction_note, author, created_at ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_description_once BEFORE UPDATE OF description ON revisions
WHEN OLD.description IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;
