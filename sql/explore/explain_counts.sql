-- explain without a balance output: the counts balance would give the entries of the pairs
-- explained, over the whole pool.
-- Inputs:  explain_shards (view, as in explain_by_uuid.sql), $ids (INTEGER[]: the entries),
--          $langs (VARCHAR[], or NULL for every language: balance's --lang)
-- Output:  entry_id INTEGER, count BIGINT
-- Grain:   one row per entry of $ids matched by at least one candidate.
-- balance's count (metaclip_v1/020_entry_counts.sql): candidates are rows of a selected
-- language with a matched entry, a pair counted once however many shards hold it. Copies of a
-- pair share its pair_key and entries, so distinct keys per entry are its count. Reads the
-- entry_ids, lang and pair_key columns of every row (about 3 s on 10M texts); with a balance
-- output in --data its entry_counts.parquet is read instead.

SELECT entry_id, count(DISTINCT pair_key) AS count
FROM (
    SELECT pair_key, unnest(entry_ids) AS entry_id
    FROM explain_shards
    WHERE list_has_any(entry_ids, $ids)
      AND ($langs::VARCHAR[] IS NULL OR list_contains($langs::VARCHAR[], lang))
)
WHERE list_contains($ids, entry_id)
GROUP BY entry_id
ORDER BY entry_id;
