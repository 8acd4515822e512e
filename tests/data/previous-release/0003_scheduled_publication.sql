-- Scheduled publication, and "Updated" counted from what readers first saw.

-- The UTC instant at which a scheduled draft becomes public; NULL otherwise.
-- The change (and so the sync cursor) is recorded at that time, not at saving.
ALTER TABLE statements ADD COLUMN publish_at TEXT;
CREATE INDEX statements_due ON statements (publish_at) WHERE publish_at IS NOT NULL;

-- The revision number current at first publication: drafting a statement in
-- several saves must not make readers see "Updated" on its first day.
ALTER TABLE statements ADD COLUMN first_public_revision INTEGER;
UPDATE statements SET first_public_revision = coalesce(
    (SELECT r.number FROM changes c JOIN revisions r ON r.id = c.revision_id
      WHERE c.statement_id = statements.id AND c.kind = 'publish' ORDER BY c.seq LIMIT 1),
    1)
WHERE status != 'draft';
