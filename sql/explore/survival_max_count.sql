-- The largest entry count: curating before download at this t drops nothing, where the search
-- for the t to curate with stops at the latest.
-- Inputs:  entry_counts (materialized by stats_prepare.sql)
-- Output:  max_count BIGINT (NULL without matches)
-- Grain:   one row.

SELECT max(count) AS max_count
FROM entry_counts;
