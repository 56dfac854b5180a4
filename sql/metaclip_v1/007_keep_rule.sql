-- The keep rule every MetaCLIP 1 sampling path applies (the streaming steps, the in-memory dry
-- run, Ray's sample tasks): how a pair's draw u and its entries' counts decide whether it is kept.
-- Inputs:  none (macros only)
-- Output:  metaclip_prob_lookup (table macro: a relation of (entry_id, count), t -> one row:
--          t; heads BIT, bit entry_id set for head entries (t / count < 1); counts UINTEGER[],
--          counts[entry_id + 1] = count, 0 for entries not in the relation),
--          metaclip_v1_kept (macro: u, entry_ids, t, heads, counts -> BOOLEAN)
-- Grain:   one value per call.
--
-- One uniform per pair decides it: u = mix64(low 64 bits of pair_key XOR keep_state) >> 11,
-- over 2^53, and the pair is kept when u < 1 - prod(1 - t / count) over its entries (product
-- in entry_ids order). This is the reference's rule (any of the per-entry draws kept), drawn as
-- the one event it adds up to: each pair is kept independently with the same probability, so
-- the curated set has the same distribution, for one draw per pair instead of one per entry.
-- Tail entries (count <= t) have prob 1, so a pair with one is always kept. u depends on the
-- seed and the pair only (same output whatever the threads, file order or machine); a larger t
-- only lowers the product, so it keeps a superset. Never random(): a volatile filter next to a
-- join can be pushed to the per-entry side and flip one coin per entry instead of per row.
-- The lookup is a head bitset and 4-byte counts, not a list of probabilities, because DuckDB
-- reads the whole one-row lookup for every vector of rows (its cost grows with its size in
-- bytes): the 1-bit head test settles most pairs; the counts are read only for pairs that need
-- draws (docs/balance.md, "Why the SQL is written this way").
-- Order of the work: a pair's first and last entries are tested in the head bitset first
-- (settles most pairs with a tail entry for two bit reads), a one-entry pair needs no lambda,
-- and only the rest walk their list.

CREATE OR REPLACE TEMP MACRO metaclip_prob_lookup(counts_relation, t) AS TABLE
SELECT
    t::DOUBLE AS t,
    string_agg(
        CASE WHEN least(1.0, t::DOUBLE / c.count) < 1.0 THEN '1' ELSE '0' END,
        ''
        ORDER BY ids.entry_id
    )::BIT AS heads,
    list(coalesce(c.count, 0)::UINTEGER ORDER BY ids.entry_id) AS counts
FROM (
    SELECT range::INTEGER AS entry_id
    FROM range((SELECT coalesce(max(entry_id) + 1, 0) FROM query_table(counts_relation)))
) AS ids
LEFT JOIN query_table(counts_relation) AS c USING (entry_id);

CREATE OR REPLACE TEMP MACRO metaclip_v1_kept(u, entry_ids, t, heads, counts) AS
    CASE
        WHEN get_bit(heads, entry_ids[1]) = 0 OR get_bit(heads, entry_ids[-1]) = 0 THEN true
        WHEN len(entry_ids) = 1 THEN u < 1.0 - (1.0 - t / counts[entry_ids[1] + 1])
        WHEN len(entry_ids) > 2
            AND list_bool_or(list_transform(entry_ids, lambda e: get_bit(heads, e) = 0)) THEN true
        ELSE u < 1.0 - list_aggregate(
            list_transform(entry_ids, lambda e: 1.0 - t / counts[e + 1]), 'product'
        )
    END;
