-- What each threshold t does to the entries: head entries, tail proportion, capped matches.
-- Inputs:  entry_counts (materialized by stats_prepare.sql), t_to_p (macros.sql),
--          $ts (DOUBLE[]: the thresholds)
-- Output:  t, head_entries (count > t: sampled down, prob < 1), head_matches (their matches),
--          tail_proportion (t_to_p(t): share of matches in entries with count < t),
--          capped_matches (sum of least(count, t): where the capped cumulative curve ends)
-- Grain:   one row per distinct t, ascending.

SELECT
    ts.t,
    count(*) FILTER (WHERE e.count > ts.t) AS head_entries,
    coalesce(sum(e.count) FILTER (WHERE e.count > ts.t), 0)::BIGINT AS head_matches,
    t_to_p(ts.t) AS tail_proportion,
    coalesce(sum(least(e.count, ts.t)), 0) AS capped_matches
FROM (SELECT DISTINCT unnest($ts::DOUBLE[]) AS t) AS ts
LEFT JOIN entry_counts AS e ON true
GROUP BY ts.t
ORDER BY ts.t;
