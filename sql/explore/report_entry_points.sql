-- The entries the report's "kept against pool" chart and table show, with what balance kept and
-- what it was expected to keep.
-- Inputs:  entry_counts (the balance output's, materialized by stats_prepare.sql: count, prob,
--          kept), report_expected_entries (report_balance_expected.sql), $top (BIGINT: the
--          largest entries, all shown), $spread (BIGINT: how many others, a fixed pseudo-random
--          choice so the chart covers the whole range)
-- Output:  entry_id, entry, count, prob, kept, expected_kept, rank (1 = largest count)
-- Grain:   one row per entry shown: at most $top + $spread rows, by count descending.

WITH ranked AS (
    SELECT
        e.entry_id,
        e.entry,
        e.count,
        e.prob,
        e.kept,
        x.expected_kept,
        row_number() OVER (ORDER BY e.count DESC, e.entry_id) AS rank
    FROM entry_counts AS e
    LEFT JOIN report_expected_entries AS x USING (entry_id)
    WHERE e.entry_id >= 0
),
spread AS (
    SELECT entry_id
    FROM ranked
    WHERE rank > $top
    ORDER BY (entry_id::UBIGINT * 2654435761) % 4294967291, entry_id
    LIMIT $spread
)
SELECT *
FROM ranked
WHERE rank <= $top OR entry_id IN (SELECT entry_id FROM spread)
ORDER BY rank;
