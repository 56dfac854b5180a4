-- Pairs per language, most frequent first.
-- Inputs:  stats_pairs (from stats_pairs.sql), $top (BIGINT: how many languages)
-- Output:  lang, pairs, matched_pairs
-- Grain:   one row per language, at most $top rows, by pairs descending then lang.

SELECT
    lang,
    count(*) AS pairs,
    count(*) FILTER (WHERE matches > 0) AS matched_pairs
FROM stats_pairs
GROUP BY lang
ORDER BY pairs DESC, lang
LIMIT $top;
