-- Step 4b (worldwide): keep a pair with probability 1 - prod(1 - prob) over its entries, under
-- the probabilities of the pair's own language.
-- Inputs:  sampled_pairs (common/040_sample_pairs.sql, or common/041_sample_images.sql with
--          --unit image, the default here), prob_vectors (030), balance_params (keep_state),
--          metaclip_with_u (common/draws.sql), metaclip_v2_kept (007_keep_rule.sql)
-- Output:  kept_pairs (view: the sampled pairs kept, their columns plus u)
-- Grain:   one row per kept (uuid, text).

CREATE OR REPLACE TEMP VIEW kept_pairs AS
SELECT p.*
FROM metaclip_with_u('sampled_pairs', (SELECT keep_state FROM balance_params)) AS p
JOIN prob_vectors AS v USING (lang)
WHERE metaclip_v2_kept(p.u, p.entry_ids, v.probs);
