-- Step 6: how many kept pairs match each entry.
-- Inputs:  kept_rows (view over the curated.parquet just written),
--          metaclip_entry_slot (000_params.sql)
-- Output:  kept_counts (table: entry_id, kept; entry_id -1 holds the number of kept pairs,
--          summed from `firsts` as in 020_entry_counts.sql)
-- Grain:   one row per entry.

CREATE OR REPLACE TEMP TABLE kept_counts AS
WITH per_entry AS MATERIALIZED (
    SELECT
        entry_id,
        count(*) AS kept,
        count(*) FILTER (WHERE entry_id = first_id) AS firsts
    FROM (
        SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id, entry_ids[1] AS first_id
        FROM kept_rows
    )
    GROUP BY entry_id
)
SELECT entry_id::INTEGER AS entry_id, kept::BIGINT AS kept FROM per_entry
UNION ALL
SELECT -1, coalesce(sum(firsts), 0)::BIGINT FROM per_entry;
