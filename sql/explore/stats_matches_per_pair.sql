-- How many entries each text matched: the distribution.
-- Inputs:  stats_pairs (from stats_pairs.sql)
-- Output:  matches (number of distinct entries a text matched), pairs
-- Grain:   one row per distinct number of matches, ascending; 0 is the unmatched texts.

SELECT matches, count(*) AS pairs
FROM stats_pairs
GROUP BY matches
ORDER BY matches;
