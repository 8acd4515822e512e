-- Source keys were the name of the folder named on the command line and the
-- path below it, so importing statements/2022/ instead of statements/ changed
-- every key. Keys are now stable (the path below the nearest folder holding a
-- .bulletin-source file, else the absolute path). The old keys cannot be
-- turned into new ones here, because the files' folders are unknown to the
-- database; they are marked as legacy, and the importer recognises a file by
-- its legacy key when its new key finds nothing, so no statement is duplicated.
UPDATE statements SET source_key = 'legacy:' || source_key
 WHERE source_key IS NOT NULL AND source_key NOT LIKE 'legacy:%';
