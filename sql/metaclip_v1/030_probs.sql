-- Step 3: each entry's keep probability, prob = least(1, t / count).
-- Inputs:  entry_counts (from 020_entry_counts.sql), $t (DOUBLE > 0)
-- Output:  entry_probs (table: entry_id, count, prob)
--          prob_vector (table, one row: probs DOUBLE[], probs[entry_id + 1] = prob, 1.0 for entries
--                       never matched), so the sample step looks entries up without a join
--          and a final row: t, tail_proportion (the reference's t_to_p), head_entries, entries
-- Grain:   entry_probs one row per matched entry; prob_vector one row.

CREATE OR REPLACE TEMP TABLE entry_probs AS
SELECT entry_id, count, least(1.0, $t::DOUBLE / count) AS prob
FROM entry_counts;

CREATE OR REPLACE TEMP TABLE prob_vector AS
SELECT list(coalesce(p.prob, 1.0) ORDER BY ids.entry_id) AS probs
FROM (
    SELECT range::INTEGER AS entry_id
    FROM range((SELECT coalesce(max(entry_id) + 1, 0) FROM entry_counts))
) AS ids
LEFT JOIN entry_probs AS p USING (entry_id);

SELECT
    $t::DOUBLE AS t,
    coalesce(sum(count) FILTER (WHERE count < $t) / sum(count), 0.0) AS tail_proportion,
    count(*) FILTER (WHERE prob < 1.0) AS head_entries,
    count(*) AS entries
FROM entry_probs;
