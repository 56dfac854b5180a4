-- explain --unit image: add the other texts of the images found, among which balance picked.
-- Inputs:  explain_shards (view, as in explain_by_uuid.sql), explain_rows (from
--          explain_by_text.sql)
-- Output:  explain_rows, with every other row of its images added (`hit` false)
-- Grain:   one row per pool row of the images found.
-- The images' uuids are few, but a filter on a set of values is not pushed into the Parquet
-- scan as one on a single value is: this reads the uuid column of every row and the others of
-- the rows kept (about 2 s on 10M texts).

INSERT INTO explain_rows
SELECT s.uuid, s.url, s.text, s.lang, s.entry_ids, s.page_url, s.shard, s.pair_key, s.filename,
    s.file_row_number, false AS hit
FROM explain_shards AS s
WHERE s.uuid IN (SELECT DISTINCT uuid FROM explain_rows)
  AND NOT EXISTS (
    SELECT 1 FROM explain_rows AS r WHERE r.uuid = s.uuid AND r.text = s.text
  );
