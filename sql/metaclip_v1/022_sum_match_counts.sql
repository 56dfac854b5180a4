-- Step 2 (--distributor ray): the pool's counts, summed from the partitions' counts.
-- Inputs:  partial_match_counts (view: entry_id, count, firsts; the match_counts table that
--                                020_entry_counts.sql made in each partition, all stacked)
-- Output:  match_counts, entry_counts, pool_totals: as 020_entry_counts.sql makes them over the
--          whole pool
-- Grain:   match_counts and entry_counts one row per entry; pool_totals one row.
-- Every copy of a (uuid, text) is in one partition (008_partition.sql), so the partitions count
-- disjoint sets of pairs and their sum is the count over the pool: the sum is the only change.

CREATE OR REPLACE TEMP TABLE match_counts AS
SELECT entry_id::INTEGER AS entry_id, sum(count)::BIGINT AS count, sum(firsts)::BIGINT AS firsts
FROM partial_match_counts
GROUP BY entry_id;

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT entry_id, count
FROM match_counts
WHERE count > 0;

CREATE OR REPLACE TEMP TABLE pool_totals AS
SELECT coalesce(sum(firsts), 0)::BIGINT AS pairs
FROM match_counts;
