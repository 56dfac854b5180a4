-- Step 6 (--distributor ray): the kept counts of the pool, summed from the partitions'.
-- Inputs:  partial_kept_counts (view: entry_id, kept, firsts; the kept_counts table that
--                               060_kept_counts.sql made in each partition, all stacked; empty
--                               in a dry run)
--          partial_kept_totals (view: kept; each partition's kept_totals, from 060, or from 055
--                               or 056 in a dry run)
-- Output:  kept_counts, kept_totals: as 060_kept_counts.sql makes them over the whole pool
-- Grain:   kept_counts one row per entry (none in a dry run); kept_totals one row.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT entry_id::INTEGER AS entry_id, sum(kept)::BIGINT AS kept, sum(firsts)::BIGINT AS firsts
FROM partial_kept_counts
GROUP BY entry_id;

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT coalesce(sum(kept), 0)::BIGINT AS kept
FROM partial_kept_totals;
