-- The keep rule of worldwide sampling: metaclip_v1's rule and draw, under the probabilities of
-- the pair's own language.
-- Inputs:  none (macros only)
-- Output:  metaclip_v2_kept (macro: u, entry_ids, probs -> BOOLEAN; probs[entry_id + 1] is the
--          entry's probability in the pair's language, 030_probs.sql's prob_vectors)
-- Grain:   one value per call.
--
-- One uniform per pair, u from metaclip_with_u(..., keep_state) (common/draws.sql), and the
-- pair is kept when u < 1.0 - prod(1.0 - probs[e + 1]) over its entries, the product in
-- entry_ids order (sampling.kept states the same, to the bit): metaclip_v1/007_keep_rule.sql's
-- rule, with t_lang / count for probabilities. A tail entry (prob 1) makes the product 0, so its
-- pair is always kept; the first and last entries are looked at first, which settles most such
-- pairs without walking the list, and a one-entry pair needs no lambda. Never random():
-- metaclip_v1/007_keep_rule.sql says why.

CREATE OR REPLACE TEMP MACRO metaclip_v2_kept(u, entry_ids, probs) AS
    CASE
        WHEN probs[entry_ids[1] + 1] >= 1.0 OR probs[entry_ids[-1] + 1] >= 1.0 THEN true
        WHEN len(entry_ids) = 1 THEN u < 1.0 - (1.0 - probs[entry_ids[1] + 1])
        ELSE u < 1.0 - list_aggregate(
            list_transform(entry_ids, lambda e: 1.0 - probs[e + 1]), 'product'
        )
    END;
