-- explain --text-like: the pairs whose text matches a LIKE pattern, with every copy of each.
-- Inputs:  explain_shards (view, as in explain_by_uuid.sql), $pattern (VARCHAR: a LIKE
--          pattern, case-sensitive), $limit (BIGINT: pairs to keep, one more than shown so the
--          caller knows there are more)
-- Output:  explain_hits (temp table: uuid, text; at most $limit, the first by uuid then text)
--          explain_rows (temp table: the columns of explain_by_uuid.sql, all `hit`)
-- Grain:   explain_hits one row per pair; explain_rows one row per pool row of those pairs
--          (copies in several shards included).
-- Two scans, each with the LIKE filter pushed into the Parquet scan (the text column is read
-- for every row, the others only where it matches): the first finds the pairs, the second
-- their rows (every copy of a pair has its text). --unit image also needs the other texts of
-- those images: explain_images.sql adds them.

CREATE OR REPLACE TEMP TABLE explain_hits AS
SELECT DISTINCT uuid, text
FROM explain_shards
WHERE text LIKE $pattern
ORDER BY uuid, text
LIMIT $limit;

CREATE OR REPLACE TEMP TABLE explain_rows AS
SELECT s.uuid, s.url, s.text, s.lang, s.entry_ids, s.page_url, s.shard, s.pair_key, s.filename,
    s.file_row_number, true AS hit
FROM explain_shards AS s
SEMI JOIN explain_hits AS h USING (uuid, text)
WHERE s.text LIKE $pattern;
