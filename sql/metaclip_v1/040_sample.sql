-- Step 4 (--unit pair, MetaCLIP 1): keep a pair with probability 1 - prod(1 - prob) over its
-- entries, the chance that at least one of its independent (pair, entry) draws u_e < prob_e.
-- Inputs:  pairs (from 010_pairs.sql), prob_lookup (from 030_probs.sql),
--          balance_params (keep_state), metaclip_with_u (sql/common/draws.sql),
--          metaclip_kept (007_keep_rule.sql: the rule, and why it is drawn this way)
-- Output:  curated (view: the extract columns plus caption = text)
-- Grain:   one row per kept (uuid, text).

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.pair_key, p.text AS caption
FROM metaclip_with_u('pairs', (SELECT keep_state FROM balance_params)) AS p, prob_lookup AS l
WHERE metaclip_kept(p.u, p.entry_ids, l.t, l.heads, l.counts);
