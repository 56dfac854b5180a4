-- Unigram entries: words counted at least $min_count times, most frequent first.
-- Input:  view unigram_counts(word VARCHAR, count BIGINT), one row per `word<TAB>count` line of
--         the unigram files (a word may appear on several lines, e.g. one per shard).
-- Params: $min_count BIGINT (MetaCLIP: 100).
-- Output: entry VARCHAR, count BIGINT.
-- Grain:  one row per distinct word whose summed count is >= $min_count, ordered by count
--         descending, then entry, so the order is the same on every run.
SELECT word AS entry, sum(count) AS count
FROM unigram_counts
WHERE word IS NOT NULL AND count > 0
GROUP BY word
HAVING sum(count) >= $min_count
ORDER BY count DESC, entry;
