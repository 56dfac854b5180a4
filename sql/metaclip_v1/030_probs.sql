-- Step 3: each entry's keep probability, prob = least(1, t / count).
-- Inputs:  entry_counts (from 020_entry_counts.sql), $t (DOUBLE > 0)
-- Output:  entry_probs (table: entry_id, count, prob)
--          prob_lookup (table, one row: t; heads BIT, bit entry_id set for head entries
--                       (count > t); counts UINTEGER[], counts[entry_id + 1] = count), which the
--                       sample step indexes without a join
--          and a final row: t, tail_proportion (the reference's t_to_p), head_entries, entries
-- Grain:   entry_probs one row per matched entry; prob_lookup one row.
-- Why a bitset and counts, not a list of probabilities: DuckDB touches the whole list for every
-- vector of rows that indexes it, so the lookup costs grow with its size in bytes. The 1-bit
-- head test settles most pairs; the 4-byte counts are read only for pairs that need draws.

CREATE OR REPLACE TEMP TABLE entry_probs AS
SELECT entry_id, count, least(1.0, $t::DOUBLE / count) AS prob
FROM entry_counts;

CREATE OR REPLACE TEMP TABLE prob_lookup AS
SELECT
    $t::DOUBLE AS t,
    string_agg(CASE WHEN p.prob < 1.0 THEN '1' ELSE '0' END, '' ORDER BY ids.entry_id)::BIT
        AS heads,
    list(coalesce(p.count, 0)::UINTEGER ORDER BY ids.entry_id) AS counts
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
