-- Bigram entries: `word1 word2` with pointwise mutual information >= $min_pmi, highest first.
-- Input:  view unigram_counts(word VARCHAR, count BIGINT) from `word<TAB>count` lines;
--         view bigram_counts(word1 VARCHAR, word2 VARCHAR, count BIGINT) from
--         `word1<TAB>word2<TAB>count` lines. Counts of repeated keys are summed.
-- Params: $min_pmi DOUBLE (MetaCLIP: 30).
-- Output: entry VARCHAR, pmi DOUBLE, count BIGINT.
-- Grain:  one row per distinct (word1, word2) whose words both have unigram counts and whose
--         PMI >= $min_pmi, ordered by pmi descending, then entry.
-- PMI is the reference's (NLTK BigramAssocMeasures.pmi, base 2, N = total unigram count):
--   pmi = log2(c(w1 w2) * N) - log2(c(w1) * c(w2)) = log2(p(w1,w2) / (p(w1) p(w2))).
-- Bigrams with a word missing from the unigram counts are skipped, as in the reference.
WITH unigram AS (
    SELECT word, sum(count) AS count
    FROM unigram_counts
    WHERE word IS NOT NULL AND count > 0
    GROUP BY word
),
total AS (
    SELECT sum(count)::DOUBLE AS n FROM unigram
),
bigram AS (
    SELECT word1, word2, sum(count) AS count
    FROM bigram_counts
    WHERE word1 IS NOT NULL AND word2 IS NOT NULL AND count > 0
    GROUP BY word1, word2
),
scored AS (
    SELECT
        b.word1 || ' ' || b.word2 AS entry,
        log2(b.count * total.n) - log2(u1.count::DOUBLE * u2.count) AS pmi,
        b.count
    FROM bigram AS b
    JOIN unigram AS u1 ON u1.word = b.word1
    JOIN unigram AS u2 ON u2.word = b.word2
    CROSS JOIN total
)
SELECT entry, pmi, count
FROM scored
WHERE pmi >= $min_pmi
ORDER BY pmi DESC, entry;
