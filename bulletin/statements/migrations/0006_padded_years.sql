-- Publication times of years below 1000 were stored without the year's leading
-- zeros ('226-03-01T09:30:00Z'); they sorted among other statements by text in
-- the wrong place. Pad them to four digits, as they are stored from now on.
UPDATE statements
   SET published = printf('%04d', CAST(substr(published, 1, instr(published, '-') - 1) AS INTEGER))
                   || substr(published, instr(published, '-'))
 WHERE instr(published, '-') BETWEEN 2 AND 4;
UPDATE statements
   SET publish_at = printf('%04d', CAST(substr(publish_at, 1, instr(publish_at, '-') - 1) AS INTEGER))
                    || substr(publish_at, instr(publish_at, '-'))
 WHERE instr(publish_at, '-') BETWEEN 2 AND 4;
