-- Step 2 (--distributor ray): the pool's counts, summed from the partitions' counts.
-- Inputs:  partial_match_counts (view: entry_id, count; the match_counts table that
--                                020_entry_counts.sql made in each partition, all stacked)
-- Output:  match_counts (table: entry_id, count; entry_id -1 holds the number of pairs)
--          entry_counts (table: entry_id INTEGER, count BIGINT, only entries matched at least once)
-- Grain:   one row per entry, as 020_entry_counts.sql makes them over the whole pool.
-- Every copy of a (uuid, text) is in one partition (008_partition.sql), so the partitions count
-- disjoint sets of pairs and their sum is the count over the pool: the sum is the only change.

CREATE OR REPLACE TEMP TABLE match_counts AS
SELECT entry_id::INTEGER AS entry_id, sum(count)::BIGINT AS count
FROM partial_match_counts
GROUP BY entry_id;

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT entry_id, count
FROM match_counts
WHERE entry_id >= 0 AND count > 0;
