-- Step 4 (worldwide, --unit pair): keep a pair with probability 1 - prod(1 - prob) over its
-- entries, under the probabilities of the pair's own language.
-- Inputs:  pairs (010), prob_vectors (030), balance_params (keep_state),
--          metaclip_with_u (sql/common/draws.sql)
-- Output:  metaclip_kept (macro: u, entry_ids, probs -> BOOLEAN), curated (view: the extract
--          columns, pair_key included, plus caption = text)
-- Grain:   one row per kept (uuid, text).
--
-- The draw is metaclip_v1/040_sample.sql's: one uniform per pair, u from metaclip_with_u(pairs,
-- keep_state), and the pair is kept when u < 1.0 - prod(1.0 - probs[e + 1]) over its entries,
-- the product in entry_ids order (sampling.kept states the same, to the bit). Only the
-- probabilities differ: they are those of the pair's language (prob_vectors, t_lang / count).
-- A tail entry (prob 1) makes the product 0, so its pair is always kept; the first and last
-- entries are looked at first, which settles most such pairs without walking the list, and a
-- one-entry pair needs no lambda. Never random(): see metaclip_v1/040_sample.sql.

CREATE OR REPLACE TEMP MACRO metaclip_kept(u, entry_ids, probs) AS
    CASE
        WHEN probs[entry_ids[1] + 1] >= 1.0 OR probs[entry_ids[-1] + 1] >= 1.0 THEN true
        WHEN len(entry_ids) = 1 THEN u < 1.0 - (1.0 - probs[entry_ids[1] + 1])
        ELSE u < 1.0 - list_aggregate(
            list_transform(entry_ids, lambda e: 1.0 - probs[e + 1]), 'product'
        )
    END;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.pair_key, p.text AS caption
FROM metaclip_with_u('pairs', (SELECT keep_state FROM balance_params)) AS p
JOIN prob_vectors AS v USING (lang)
WHERE metaclip_kept(p.u, p.entry_ids, v.probs);
