-- Step 6 (--dry-run, --unit image): how many images would be kept, writing none.
-- Inputs:  kept_pairs (045_keep.sql, over common/041_sample_images.sql's sampled_pairs)
-- Output:  kept_totals (table, one row: kept = the number of kept images)
--          kept_counts (table: entry_id, kept, firsts as in 060_kept_counts.sql; empty)
-- Grain:   one row.
-- The pick is per image over the deduplicated pairs, so this counts the kept pairs themselves.
-- A dry run skips the per-entry kept counts, as in 055_kept_total.sql.

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT count(*)::BIGINT AS kept
FROM kept_pairs;

CREATE OR REPLACE TEMP TABLE kept_counts (entry_id INTEGER, kept BIGINT, firsts BIGINT);
