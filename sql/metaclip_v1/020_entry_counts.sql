-- Step 2: how many candidate texts match each entry, over the whole pool after dedup.
-- Inputs:  candidates, duplicate_rows (from 010_pairs.sql)
-- Output:  match_counts (table: entry_id, count; entry_id -1 holds the number of pairs)
--          entry_counts (table: entry_id INTEGER, count BIGINT, only entries matched at least once)
-- Grain:   one row per entry.
-- Counted as (rows of every candidate) minus (rows dropped as duplicates), which gives the counts
-- over `pairs` without an anti-join on the large side. The -1 sentinel prepended to each list
-- counts the texts themselves in the same pass.

CREATE OR REPLACE TEMP TABLE match_counts AS
WITH seen AS (
    SELECT entry_id, count(*) AS n
    FROM (SELECT unnest(list_prepend(-1, entry_ids)) AS entry_id FROM candidates)
    GROUP BY entry_id
),
dropped AS (
    SELECT entry_id, count(*) AS n
    FROM (SELECT unnest(list_prepend(-1, entry_ids)) AS entry_id FROM duplicate_rows)
    GROUP BY entry_id
)
SELECT seen.entry_id::INTEGER AS entry_id, (seen.n - coalesce(dropped.n, 0))::BIGINT AS count
FROM seen
LEFT JOIN dropped USING (entry_id);

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT entry_id, count
FROM match_counts
WHERE entry_id >= 0 AND count > 0;
