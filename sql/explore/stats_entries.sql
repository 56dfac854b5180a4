-- Entry-level counts: how many entries matched, how concentrated the matches are.
-- Inputs:  entry_counts (materialized by stats_prepare.sql), metadata (from metadata.sql)
-- Output:  one row: entries_matched, matches (sum of counts), metadata_entries,
--          entries_beyond_metadata (ids the metadata list does not have: a different list was
--          used by extract), entries_for_half / entries_for_90 (fewest top entries holding at
--          least 50% / 90% of all matches)
-- Grain:   one row.

WITH ranked AS (
    SELECT
        entry_id,
        sum(count) OVER (ORDER BY count DESC, entry_id ROWS UNBOUNDED PRECEDING)
            / sum(count) OVER () AS cumulative_share,
        row_number() OVER (ORDER BY count DESC, entry_id) AS rank
    FROM entry_counts
)
SELECT
    (SELECT count(*) FROM entry_counts) AS entries_matched,
    (SELECT coalesce(sum(count), 0)::BIGINT FROM entry_counts) AS matches,
    (SELECT count(*) FROM metadata) AS metadata_entries,
    (
        SELECT count(*) FROM entry_counts
        WHERE entry_id >= (SELECT count(*) FROM metadata)
    ) AS entries_beyond_metadata,
    (SELECT min(rank) FROM ranked WHERE cumulative_share >= 0.5) AS entries_for_half,
    (SELECT min(rank) FROM ranked WHERE cumulative_share >= 0.9) AS entries_for_90;
