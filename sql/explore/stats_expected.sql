-- Expected curated size at each threshold t, before any draw is made.
-- Inputs:  stats_pairs (from stats_pairs.sql), entry_counts (materialized by stats_prepare.sql),
--          $ts (DOUBLE[]: the thresholds)
-- Output:  t, expected_pairs = sum over texts of 1 - prod over the text's entries of
--          (1 - least(1, t / count)), the mean size of `balance --t t --unit pair` on these pairs
-- Grain:   one row per distinct t, ascending. Texts without a counted entry add 0.
-- An entry missing from entry_counts (a balance output that left its language out) is treated
-- as absent from the text.

WITH text_counts AS (
    SELECT s.pair_id, list(e.count) AS counts
    FROM (SELECT pair_id, unnest(entry_ids) AS entry_id FROM stats_pairs) AS s
    JOIN entry_counts AS e USING (entry_id)
    GROUP BY s.pair_id
)
SELECT
    ts.t,
    coalesce(sum(
        1 - list_aggregate(list_transform(c.counts, lambda n: 1 - least(1, ts.t / n)), 'product')
    ), 0.0) AS expected_pairs
FROM (SELECT DISTINCT unnest($ts::DOUBLE[]) AS t) AS ts
LEFT JOIN text_counts AS c ON true
GROUP BY ts.t
ORDER BY ts.t;
