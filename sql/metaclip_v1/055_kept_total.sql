-- Step 6 (--dry-run only): how many pairs would be kept, deciding every pair but writing none.
-- Inputs:  curated (from 040_sample.sql or 041_sample_image.sql)
-- Output:  kept_counts (table, one row: entry_id -1, kept = the number of kept pairs)
-- Grain:   one row.
-- A dry run skips the per-entry kept counts (an unnest and group-by over every kept pair) to stay
-- cheap; entry_counts then has count and prob, and kept is NULL.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT -1::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM curated;
