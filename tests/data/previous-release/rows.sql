-- Rows as the previous release (the three migrations beside this file) kept
-- them: statements in every state, revisions, a translation, tags, an old
-- slug, the change log, the full-text index, an editor and the audit log.
-- tests/test_upgrade.py builds a database from these, runs `prepare` and
-- finds every row again.

INSERT INTO meta (key, value) VALUES ('database_id', '5e1ec7ab1e0d4c2f9a8b7c6d5e4f3a2b');

-- The editor's password is tests/editor_client.py's PASSWORD, hashed with
-- Argon2id at the tests' small parameters.
INSERT INTO editors (id, email, password_hash, created_at, password_changed_at) VALUES
  (1, 'editor@example.org',
   '$argon2id$v=19$m=64,t=1,p=4$Yp6heLFBk0MqNT3vIxXxtQ$Kk1LpLGvciSxuZm1lxkpyUacSa1PVCv4O/HT7+9IcDU',
   '2022-01-06T08:00:00Z', '2022-01-06T08:00:00Z');

INSERT INTO statements (id, slug, lang, translation_group, is_original, status, published, slug_frozen,
                        current_revision, source_key, created_at, updated_at, withdrawn_at,
                        withdrawal_reason, change_seq, publish_at, first_public_revision) VALUES
  ('11111111-1111-4111-8111-111111111111', 'harbour-workers-stop-work', 'en',
   '11111111-1111-4111-8111-111111111111', 1, 'published', '2022-01-07', 1,
   'r1111111-0000-4000-8000-000000000002', NULL, '2022-01-07T09:00:00Z', '2022-01-08T10:00:00Z',
   NULL, NULL, 3, NULL, 1),
  ('22222222-2222-4222-8222-222222222222', 'les-dockers-cessent-le-travail', 'fr',
   '11111111-1111-4111-8111-111111111111', 0, 'published', '2022-01-07', 1,
   'r2222222-0000-4000-8000-000000000001', NULL, '2022-01-07T11:00:00Z', '2022-01-07T11:30:00Z',
   NULL, NULL, 2, NULL, 1),
  ('33333333-3333-4333-8333-333333333333', 'note-on-the-ferry-fares', 'en',
   '33333333-3333-4333-8333-333333333333', 1, 'withdrawn', '2022-01-09', 1,
   'r3333333-0000-4000-8000-000000000001', 'imports/ferry-fares.txt', '2022-01-09T07:00:00Z',
   '2022-01-10T12:00:00Z', '2022-01-10T12:00:00Z', 'Published in error.', 5, NULL, 1),
  ('44444444-4444-4444-8444-444444444444', 'draft-on-the-new-quay', 'en',
   '44444444-4444-4444-8444-444444444444', 1, 'draft', NULL, 0,
   'r4444444-0000-4000-8000-000000000001', NULL, '2022-01-11T09:00:00Z', '2022-01-11T09:00:00Z',
   NULL, NULL, NULL, NULL, NULL);

INSERT INTO revisions (id, statement_id, number, source_text, source_format, body_html, title, summary,
                       correction_note, author, created_at) VALUES
  ('r1111111-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 1,
   'The dockers of Port Meridian stop work at noon.', 'txt',
   '<p>The dockers of Port Meridian stop work at noon.</p>',
   'Harbour workers stop work', '', '', 'editor@example.org', '2022-01-07T09:00:00Z'),
  ('r1111111-0000-4000-8000-000000000002', '11111111-1111-4111-8111-111111111111', 2,
   'The dockers of Port Meridian stop work at one o''clock.', 'txt',
   '<p>The dockers of Port Meridian stop work at one o''clock.</p>',
   'Harbour workers stop work', '', 'The hour was wrong.', 'editor@example.org', '2022-01-08T10:00:00Z'),
  ('r2222222-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 1,
   'Les dockers de Port Meridian cessent le travail.', 'txt',
   '<p>Les dockers de Port Meridian cessent le travail.</p>',
   'Les dockers cessent le travail', '', '', 'editor@example.org', '2022-01-07T11:00:00Z'),
  ('r3333333-0000-4000-8000-000000000001', '33333333-3333-4333-8333-333333333333', 1,
   'Ferry fares rise on Monday.', 'txt', '<p>Ferry fares rise on Monday.</p>',
   'Note on the ferry fares', '', '', 'import: imports/ferry-fares.txt', '2022-01-09T07:00:00Z'),
  ('r4444444-0000-4000-8000-000000000001', '44444444-4444-4444-8444-444444444444', 1,
   'Not for readers yet.', 'txt', '<p>Not for readers yet.</p>',
   'Draft on the new quay', '', '', 'editor@example.org', '2022-01-11T09:00:00Z');

INSERT INTO statement_tags (statement_id, tag) VALUES
  ('11111111-1111-4111-8111-111111111111', 'labour'),
  ('11111111-1111-4111-8111-111111111111', 'port'),
  ('22222222-2222-4222-8222-222222222222', 'port');

INSERT INTO slug_history (slug, statement_id) VALUES
  ('harbour-workers', '11111111-1111-4111-8111-111111111111');

INSERT INTO changes (seq, statement_id, kind, revision_id, at) VALUES
  (1, '11111111-1111-4111-8111-111111111111', 'publish', 'r1111111-0000-4000-8000-000000000001', '2022-01-07T09:00:00Z'),
  (2, '22222222-2222-4222-8222-222222222222', 'publish', 'r2222222-0000-4000-8000-000000000001', '2022-01-07T11:30:00Z'),
  (3, '11111111-1111-4111-8111-111111111111', 'update', 'r1111111-0000-4000-8000-000000000002', '2022-01-08T10:00:00Z'),
  (4, '33333333-3333-4333-8333-333333333333', 'publish', 'r3333333-0000-4000-8000-000000000001', '2022-01-09T07:00:00Z'),
  (5, '33333333-3333-4333-8333-333333333333', 'withdraw', 'r3333333-0000-4000-8000-000000000001', '2022-01-10T12:00:00Z');

INSERT INTO statements_fts (rowid, title, summary, body) VALUES
  (1, 'Harbour workers stop work', '', 'The dockers of Port Meridian stop work at one o''clock.'),
  (2, 'Les dockers cessent le travail', '', 'Les dockers de Port Meridian cessent le travail.');

INSERT INTO audit_log (at, actor, action, statement_id, revision_id, detail) VALUES
  ('2022-01-06T08:00:00Z', 'editor@example.org', 'editor', NULL, NULL, ''),
  ('2022-01-07T08:59:00Z', 'editor@example.org', 'login', NULL, NULL, ''),
  ('2022-01-07T09:00:00Z', 'editor@example.org', 'publish', '11111111-1111-4111-8111-111111111111',
   'r1111111-0000-4000-8000-000000000001', ''),
  ('2022-01-07T11:30:00Z', 'editor@example.org', 'publish', '22222222-2222-4222-8222-222222222222',
   'r2222222-0000-4000-8000-000000000001', ''),
  ('2022-01-08T10:00:00Z', 'editor@example.org', 'correct', '11111111-1111-4111-8111-111111111111',
   'r1111111-0000-4000-8000-000000000002', 'The hour was wrong.'),
  ('2022-01-09T07:00:00Z', 'import: imports/ferry-fares.txt', 'publish', '33333333-3333-4333-8333-333333333333',
   'r3333333-0000-4000-8000-000000000001', ''),
  ('2022-01-10T12:00:00Z', 'editor@example.org', 'withdraw', '33333333-3333-4333-8333-333333333333',
   'r3333333-0000-4000-8000-000000000001', 'Published in error.'),
  ('2022-01-11T09:00:00Z', 'editor@example.org', 'create', '44444444-4444-4444-8444-444444444444',
   'r4444444-0000-4000-8000-000000000001', '');

INSERT INTO login_throttle (key, attempts, blocked_until, last_at) VALUES
  ('account:0f3e', 1, 0, 1641546000.0);
