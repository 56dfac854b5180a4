-- Step 2 (worldwide): how many candidate texts match each entry of each language's list.
-- Inputs:  candidates, duplicate_rows (from 010_pairs.sql)
-- Output:  match_counts (table: lang, entry_id, count; entry_id -1 holds the language's pairs)
--          lang_entry_counts (table: lang, entry_id INTEGER, count BIGINT; entries matched at
--                             least once)
-- Grain:   one row per (lang, entry).
-- Counted as (rows of every candidate) minus (rows dropped as duplicates), as in metaclip_v1.
-- Entry ids of different languages are different entries: the key is (lang, entry_id).

CREATE OR REPLACE TEMP TABLE match_counts AS
WITH seen AS (
    SELECT lang, entry_id, count(*) AS n
    FROM (SELECT lang, unnest(list_prepend(-1, entry_ids)) AS entry_id FROM candidates)
    GROUP BY lang, entry_id
),
dropped AS (
    SELECT lang, entry_id, count(*) AS n
    FROM (SELECT lang, unnest(list_prepend(-1, entry_ids)) AS entry_id FROM duplicate_rows)
    GROUP BY lang, entry_id
)
SELECT
    seen.lang,
    seen.entry_id::INTEGER AS entry_id,
    (seen.n - coalesce(dropped.n, 0))::BIGINT AS count
FROM seen
LEFT JOIN dropped USING (lang, entry_id);

CREATE OR REPLACE TEMP TABLE lang_entry_counts AS
SELECT lang, entry_id, count
FROM match_counts
WHERE entry_id >= 0 AND count > 0;
