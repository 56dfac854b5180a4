-- Step 3: each entry's keep probability, prob = least(1, t / count).
-- Inputs:  entry_counts (020_entry_counts.sql, or 022 on Ray, or 015), $t (DOUBLE > 0),
--          metaclip_prob_lookup (007_keep_rule.sql)
-- Output:  entry_probs (table: entry_id, count, prob)
--          prob_lookup (table, one row: t, heads, counts; see 007_keep_rule.sql), which the
--          keep step (045) indexes without a join
--          and a final row: t, tail_proportion (the reference's t_to_p), head_entries, entries
-- Grain:   entry_probs one row per matched entry; prob_lookup one row.

CREATE OR REPLACE TEMP TABLE entry_probs AS
SELECT entry_id, count, least(1.0, $t::DOUBLE / count) AS prob
FROM entry_counts;

CREATE OR REPLACE TEMP TABLE prob_lookup AS
SELECT * FROM metaclip_prob_lookup('entry_probs', $t::DOUBLE);

SELECT
    $t::DOUBLE AS t,
    coalesce(sum(count) FILTER (WHERE count < $t) / sum(count), 0.0) AS tail_proportion,
    count(*) FILTER (WHERE prob < 1.0) AS head_entries,
    count(*) AS entries
FROM entry_probs;
