-- Step 6 (--dry-run, --unit image): how many images would be kept, writing none.
-- Inputs:  curated (from 041_sample_image.sql)
-- Output:  kept_counts (table, one row: entry_id -1, kept = the number of kept images)
-- Grain:   one row.
-- The pick is per image over the deduplicated pairs, so this counts the curated view itself.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT -1::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM curated;
