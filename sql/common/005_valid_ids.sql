-- Step 0b (only with --valid-uuids): keep the images that survived download and filtering.
-- Inputs:  raw_shards   (view: the extract columns of every input shard, with filename and
--                        file_row_number)
--          valid_input  (view: value VARCHAR, a uuid or an image url per row, e.g. the `url` of
--                        img2dataset's output with status = 'success')
-- Output:  valid_ids    (table: distinct values), shards (view: raw_shards restricted to them)
-- Grain:   valid_ids one row per value; shards one row per input row.
-- A value matches a row by its uuid or by its url (the uuid is derived from the url, so either
-- identifies the image); no need to guess which kind each value is.

CREATE OR REPLACE TEMP TABLE valid_ids AS
SELECT DISTINCT trim(value, e' \t\r') AS value
FROM valid_input
WHERE trim(value, e' \t\r') <> '';

CREATE OR REPLACE TEMP VIEW shards AS
SELECT *
FROM raw_shards
WHERE uuid IN (SELECT value FROM valid_ids)
   OR url IN (SELECT value FROM valid_ids);
