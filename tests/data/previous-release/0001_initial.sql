-- Bulletin's first schema. Migrations are append-only: never edit a numbered
-- file that has shipped; add the next number instead.

-- One row per database: `database_id` makes sync cursors from another
-- database (a restored backup, another site) recognisable.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE statements (
    id                TEXT PRIMARY KEY,           -- random UUID, never the rowid
    slug              TEXT NOT NULL UNIQUE,
    lang              TEXT NOT NULL,
    translation_group TEXT NOT NULL,              -- id of the group's original
    is_original       INTEGER NOT NULL DEFAULT 1,
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'published', 'withdrawn')),
    published         TEXT,                       -- 'YYYY-MM-DD' or UTC instant
    slug_frozen       INTEGER NOT NULL DEFAULT 0, -- set at first publication
    current_revision  TEXT,
    source_key        TEXT UNIQUE,                -- importer identity, if imported
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,              -- last published change
    withdrawn_at      TEXT,
    withdrawal_reason TEXT,
    change_seq        INTEGER                     -- latest change; NULL until published
);
CREATE INDEX statements_newest ON statements (status, published); -- rowid breaks ties
CREATE UNIQUE INDEX statements_change_seq ON statements (change_seq);
CREATE INDEX statements_group ON statements (translation_group);

-- Append-only: a published revision's content never changes after the fact.
CREATE TABLE revisions (
    id              TEXT PRIMARY KEY,
    statement_id    TEXT NOT NULL REFERENCES statements (id),
    number          INTEGER NOT NULL,
    source_text     TEXT NOT NULL,
    source_format   TEXT NOT NULL CHECK (source_format IN ('txt', 'markdown', 'html')),
    body_html       TEXT NOT NULL,               -- sanitized
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    correction_note TEXT NOT NULL DEFAULT '',
    author          TEXT NOT NULL,               -- an editor, or 'import: <source key>'
    created_at      TEXT NOT NULL,
    UNIQUE (statement_id, number)
);
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;

CREATE TABLE statement_tags (
    statement_id TEXT NOT NULL REFERENCES statements (id),
    tag          TEXT NOT NULL,
    PRIMARY KEY (statement_id, tag)
);
CREATE INDEX statement_tags_by_tag ON statement_tags (tag, statement_id);

-- Slugs a statement had before its current one answer 301.
CREATE TABLE slug_history (
    slug         TEXT PRIMARY KEY,
    statement_id TEXT NOT NULL REFERENCES statements (id)
);

-- Every publish, update and withdrawal: the basis of the sync cursor.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id TEXT NOT NULL REFERENCES statements (id),
    kind         TEXT NOT NULL CHECK (kind IN ('publish', 'update', 'withdraw')),
    revision_id  TEXT REFERENCES revisions (id),
    at           TEXT NOT NULL
);

-- Full-text index of published statements; rowid is the statement's rowid.
CREATE VIRTUAL TABLE statements_fts USING fts5 (
    title, summary, body,
    tokenize = 'unicode61 remove_diacritics 2'
);
