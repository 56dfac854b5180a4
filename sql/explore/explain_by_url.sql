-- explain --url: every row of one image, by its URL.
-- Inputs:  explain_shards (view: the pool's rows, pair_key included, with filename and
--          file_row_number; defined by explore/explain.py), $value (VARCHAR: the image URL)
-- Output:  explain_rows (temp table: uuid, url, text, lang, entry_ids, page_url, shard,
--          pair_key, filename, file_row_number, hit BOOLEAN)
-- Grain:   one row per pool row of the image: copies of a pair in several shards, and every
--          text of the image (--unit image picks among them), all `hit`.
-- The equality filter is pushed into the Parquet scan: only the url column is read for every
-- row, the others for the rows that match.

CREATE OR REPLACE TEMP TABLE explain_rows AS
SELECT uuid, url, text, lang, entry_ids, page_url, shard, pair_key, filename, file_row_number,
    true AS hit
FROM explain_shards
WHERE url = $value;
