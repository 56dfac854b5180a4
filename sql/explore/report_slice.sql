-- The rows the report takes sample texts from: the first rows of the pool, in file order.
-- Inputs:  pairs (pairs.sql), $rows (BIGINT)
-- Output:  report_slice (temp table: uuid, url, text, lang, entry_id): one row per (row, entry)
-- Grain:   one row per matched entry of each of the first $rows rows.
-- A LIMIT over the scan stops reading once it has its rows, so the samples cost the same on
-- any pool size; they come from the first files rather than from the whole pool.

CREATE OR REPLACE TEMP TABLE report_slice AS
SELECT uuid, url, text, lang, unnest(entry_ids) AS entry_id
FROM (
    SELECT uuid, url, text, lang, entry_ids
    FROM pairs
    WHERE len(entry_ids) > 0
    LIMIT $rows
);
