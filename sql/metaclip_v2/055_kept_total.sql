-- Step 6 (worldwide, --dry-run only): how many pairs each language would keep, writing none.
-- Inputs:  curated (040 or 041)
-- Output:  kept_counts (table: lang, entry_id -1, kept = that language's kept pairs)
-- Grain:   one row per language with a kept pair.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT lang, -1::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM curated
GROUP BY lang;
