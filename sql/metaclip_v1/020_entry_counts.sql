-- Step 2: how many candidate texts match each entry, over the whole pool after dedup.
-- Inputs:  candidates, duplicate_rows (common/009_candidates.sql, common/010_pairs.sql),
--          metaclip_entry_slot (001_entry_slot.sql: ids grouped so that DuckDB counts into an
--          array)
-- Output:  match_counts (table: entry_id INTEGER, count BIGINT, firsts BIGINT: the pairs whose
--                        first entry is this one)
--          entry_counts (table: entry_id INTEGER, count BIGINT, only entries matched at least once)
--          pool_totals  (table, one row: pairs BIGINT, the number of distinct candidate pairs)
-- Grain:   match_counts and entry_counts one row per entry; pool_totals one row.
-- Counted as (rows of every candidate) minus (rows dropped as duplicates), which gives the counts
-- over `pairs` without an anti-join on the large side. The number of pairs comes from the same
-- pass: `firsts` counts the texts whose first entry is this one (entry_ids are distinct), so it
-- sums to the number of texts (prepending a sentinel to every list would copy every list).

CREATE OR REPLACE TEMP TABLE match_counts AS
WITH seen AS (
    SELECT
        entry_id,
        count(*) AS n,
        count(*) FILTER (WHERE entry_id = first_id) AS firsts
    FROM (
        SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id, entry_ids[1] AS first_id
        FROM candidates
    )
    GROUP BY entry_id
),
dropped AS (
    SELECT
        entry_id,
        count(*) AS n,
        count(*) FILTER (WHERE entry_id = first_id) AS firsts
    FROM (
        SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id, entry_ids[1] AS first_id
        FROM duplicate_rows
    )
    GROUP BY entry_id
)
SELECT
    seen.entry_id::INTEGER AS entry_id,
    (seen.n - coalesce(dropped.n, 0))::BIGINT AS count,
    (seen.firsts - coalesce(dropped.firsts, 0))::BIGINT AS firsts
FROM seen
LEFT JOIN dropped USING (entry_id);

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT entry_id, count
FROM match_counts
WHERE count > 0;

CREATE OR REPLACE TEMP TABLE pool_totals AS
SELECT coalesce(sum(firsts), 0)::BIGINT AS pairs
FROM match_counts;
