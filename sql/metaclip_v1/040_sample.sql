-- Step 4 (--unit pair, MetaCLIP 1): keep a pair with probability 1 - prod(1 - prob) over its
-- entries, the chance that at least one of its independent (pair, entry) draws u_e < prob_e.
-- Inputs:  pairs (from 010_pairs.sql), prob_lookup (from 030_probs.sql),
--          balance_params (keep_state), metaclip_with_u (sql/common/draws.sql)
-- Output:  metaclip_kept (macro), curated (view: the extract columns plus
--          caption = text)
-- Grain:   one row per kept (uuid, text).
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
-- Order of the work: a pair's first and last entries are tested in the head bitset first
-- (settles most pairs with a tail entry for two bit reads), a one-entry pair needs no lambda,
-- and only the rest walk their list.

CREATE OR REPLACE TEMP MACRO metaclip_kept(u, entry_ids, t, heads, counts) AS
    CASE
        WHEN get_bit(heads, entry_ids[1]) = 0 OR get_bit(heads, entry_ids[-1]) = 0 THEN true
        WHEN len(entry_ids) = 1 THEN u < 1.0 - (1.0 - t / counts[entry_ids[1] + 1])
        WHEN len(entry_ids) > 2
            AND list_bool_or(list_transform(entry_ids, lambda e: get_bit(heads, e) = 0)) THEN true
        ELSE u < 1.0 - list_aggregate(
            list_transform(entry_ids, lambda e: 1.0 - t / counts[e + 1]), 'product'
        )
    END;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.pair_key, p.text AS caption
FROM metaclip_with_u('pairs', (SELECT keep_state FROM balance_params)) AS p, prob_lookup AS l
WHERE metaclip_kept(p.u, p.entry_ids, l.t, l.heads, l.counts);
