-- explain with a balance output: the counts that run used for the entries of the pairs
-- explained, as it wrote them.
-- Inputs:  explain_balance_counts (view over <balance out>/entry_counts.parquet with a `lang`
--          column, NULL for a MetaCLIP 1 run), $ids (INTEGER[]: the entries)
-- Output:  lang, entry_id, entry, count
-- Grain:   one row per (lang, entry) of $ids the run counted.
-- Only rows with entry_id >= 0 are entries (a total kept as a negative id is not one).

SELECT lang, entry_id, entry, count
FROM explain_balance_counts
WHERE entry_id >= 0 AND list_contains($ids, entry_id)
ORDER BY lang, entry_id;
