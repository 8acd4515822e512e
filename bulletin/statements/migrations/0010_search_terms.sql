-- Search by word keys (folded, stemmed: bulletin/statements/words.py) rather
-- than by SQLite's own tokens, which know neither Russian endings nor Arabic
-- spelling variants. FTS5 cannot call Python, so the keys are computed in
-- Python and stored here as space-separated words; the backfill of
-- migration 10 fills it for the statements published so far.
DROP TABLE IF EXISTS statements_fts;
CREATE VIRTUAL TABLE IF NOT EXISTS statements_terms USING fts5 (
    title, body,
    tokenize = 'ascii'
);
