-- Pool-level counts: rows, pairs, images, languages, matched and unmatched texts, matches.
-- Inputs:  stats_pairs (from stats_pairs.sql)
-- Output:  one row: rows, pairs, images, languages, matched_pairs, unmatched_pairs, matches,
--          matches_per_matched_pair (mean), max_matches_per_pair
-- Grain:   one row for the whole pool; `rows` counts cross-shard copies, everything else counts
--          distinct (uuid, text) pairs.

SELECT
    coalesce(sum(copies), 0)::BIGINT AS rows,
    count(*) AS pairs,
    count(DISTINCT uuid) AS images,
    count(DISTINCT lang) AS languages,
    count(*) FILTER (WHERE matches > 0) AS matched_pairs,
    count(*) FILTER (WHERE matches = 0) AS unmatched_pairs,
    coalesce(sum(matches), 0)::BIGINT AS matches,
    avg(matches) FILTER (WHERE matches > 0) AS matches_per_matched_pair,
    coalesce(max(matches), 0) AS max_matches_per_pair
FROM stats_pairs;
