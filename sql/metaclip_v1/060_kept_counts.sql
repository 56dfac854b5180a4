-- Step 6: how many kept pairs match each entry.
-- Inputs:  kept_rows (view over the curated.parquet just written)
-- Output:  kept_counts (table: entry_id, kept; entry_id -1 holds the number of kept pairs)
-- Grain:   one row per entry.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT entry_id::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM (SELECT unnest(list_prepend(-1, entry_ids)) AS entry_id FROM kept_rows)
GROUP BY entry_id;
