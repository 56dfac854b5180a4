-- Step 6: how many kept pairs match each entry.
-- Inputs:  kept_rows (view over the curated.parquet just written),
--          metaclip_entry_slot (001_entry_slot.sql)
-- Output:  kept_counts (table: entry_id INTEGER, kept BIGINT, firsts BIGINT: the kept pairs
--                       whose first entry is this one, as in 020_entry_counts.sql)
--          kept_totals (table, one row: kept = the number of kept pairs, the sum of firsts)
-- Grain:   kept_counts one row per entry; kept_totals one row.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT
    entry_id::INTEGER AS entry_id,
    count(*)::BIGINT AS kept,
    count(*) FILTER (WHERE entry_id = first_id)::BIGINT AS firsts
FROM (
    SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id, entry_ids[1] AS first_id
    FROM kept_rows
)
GROUP BY entry_id;

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT coalesce(sum(firsts), 0)::BIGINT AS kept
FROM kept_counts;
