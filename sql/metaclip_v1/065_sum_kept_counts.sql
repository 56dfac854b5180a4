-- Step 6 (--distributor ray): the kept counts of the pool, summed from the partitions'.
-- Inputs:  partial_kept_counts (view: entry_id, kept; the kept_counts table that
--                               060_kept_counts.sql, or 055_kept_total.sql in a dry run, made in
--                               each partition, all stacked)
-- Output:  kept_counts (table: entry_id, kept; entry_id -1 holds the number of kept pairs)
-- Grain:   one row per entry (only entry_id -1 in a dry run).

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT entry_id::INTEGER AS entry_id, sum(kept)::BIGINT AS kept
FROM partial_kept_counts
GROUP BY entry_id;
