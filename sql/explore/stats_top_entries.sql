-- The entries with the most matches: the head that balancing samples down.
-- Inputs:  entry_counts (materialized by stats_prepare.sql), $top (BIGINT)
-- Output:  entry_id, entry, count, share (of all matches), cumulative_share
-- Grain:   one row per entry, at most $top rows, by count descending then entry_id.

SELECT
    entry_id,
    entry,
    count,
    count / sum(count) OVER () AS share,
    sum(count) OVER (ORDER BY count DESC, entry_id ROWS UNBOUNDED PRECEDING)
        / sum(count) OVER () AS cumulative_share
FROM entry_counts
ORDER BY count DESC, entry_id
LIMIT $top;
