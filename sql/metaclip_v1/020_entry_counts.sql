-- Step 2: how many candidate texts match each entry, over the whole pool after dedup.
-- Inputs:  candidates, duplicate_rows (from 010_pairs.sql),
--          metaclip_entry_slot (000_params.sql: ids grouped so that DuckDB counts into an array)
-- Output:  match_counts (table: entry_id, count; entry_id -1 holds the number of pairs)
--          entry_counts (table: entry_id INTEGER, count BIGINT, only entries matched at least once)
-- Grain:   one row per entry.
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
),
per_entry AS MATERIALIZED (
    SELECT
        seen.entry_id,
        seen.n - coalesce(dropped.n, 0) AS count,
        seen.firsts - coalesce(dropped.firsts, 0) AS firsts
    FROM seen
    LEFT JOIN dropped USING (entry_id)
)
SELECT entry_id::INTEGER AS entry_id, count::BIGINT AS count FROM per_entry
UNION ALL
SELECT -1, coalesce(sum(firsts), 0)::BIGINT FROM per_entry;

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT entry_id, count
FROM match_counts
WHERE entry_id >= 0 AND count > 0;
