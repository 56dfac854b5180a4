-- Step 6 (worldwide): how many kept pairs match each (lang, entry).
-- Inputs:  kept_rows (view over the curated.parquet just written)
-- Output:  kept_counts (table: lang, entry_id, kept; entry_id -1 holds the language's kept pairs)
-- Grain:   one row per (lang, entry).

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT lang, entry_id::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM (SELECT lang, unnest(list_prepend(-1, entry_ids)) AS entry_id FROM kept_rows)
GROUP BY lang, entry_id;
