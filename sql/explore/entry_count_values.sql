-- Every entry's count, ascending: the x order of the cumulative entry-count curve (tail to head).
-- Inputs:  entry_counts (materialized by stats_prepare.sql)
-- Output:  count BIGINT
-- Grain:   one row per entry matched at least once, by count ascending.

SELECT count
FROM entry_counts
ORDER BY count;
