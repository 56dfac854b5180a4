-- Step 2b (only with --p): the threshold t whose tail share of all matches is closest to p.
-- Inputs:  entry_counts (from 020_entry_counts.sql), $p (DOUBLE in (0, 1))
-- Output:  one row: t (the count of the chosen entry)
-- Grain:   one row.
-- Like the reference's p_to_t: sort the counts, take the cumulative share, pick the count at the
-- position whose share is closest to p (the first such position on a tie). Entries never
-- matched are not in entry_counts; the reference's array has them as zeros, which only matters
-- for a p below the smallest non-zero share, where the reference would return t = 0.

SELECT count AS t
FROM (
    SELECT
        count,
        sum(count) OVER (ORDER BY count ROWS UNBOUNDED PRECEDING) / sum(count) OVER () AS share
    FROM entry_counts
)
ORDER BY abs(share - $p), share
LIMIT 1;
