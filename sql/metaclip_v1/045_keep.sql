-- Step 4b: keep a pair with probability 1 - prod(1 - prob) over its entries, the chance that at
-- least one of its independent (pair, entry) draws u_e < prob_e.
-- Inputs:  sampled_pairs (common/040_sample_pairs.sql, or common/041_sample_images.sql with
--          --unit image), prob_lookup (030_probs.sql), balance_params (keep_state),
--          metaclip_with_u (common/draws.sql), metaclip_v1_kept (007_keep_rule.sql: the rule,
--          and why it is drawn this way)
-- Output:  kept_pairs (view: the sampled pairs kept, their columns plus u)
-- Grain:   one row per kept (uuid, text).

CREATE OR REPLACE TEMP VIEW kept_pairs AS
SELECT p.*
FROM metaclip_with_u('sampled_pairs', (SELECT keep_state FROM balance_params)) AS p,
    prob_lookup AS l
WHERE metaclip_v1_kept(p.u, p.entry_ids, l.t, l.heads, l.counts);
