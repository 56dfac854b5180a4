-- Step 4 (--unit image, MetaCLIP 2): one text per image, kept with probability 1 - prod(1 - prob).
-- Inputs:  pairs (from 010_pairs.sql), prob_lookup (from 030_probs.sql), balance_params
--          (keep_state, pick_state), metaclip_kept (007_keep_rule.sql)
-- Output:  image_texts (view: uuid, pair_key of the text picked per image), curated (view, as
--          in 040_sample.sql)
-- Grain:   one row per kept image.
--
-- The picked text is the one with the smallest metaclip_pick (sql/common/draws.sql): uniform
-- over the image's texts, fixed by the seed, independent of the keep draw. It is then kept as
-- in 040_sample.sql. Entry counts are over all texts (step 2), as in the reference.

CREATE OR REPLACE TEMP VIEW image_texts AS
SELECT
    p.uuid,
    arg_min(p.pair_key, metaclip_pick(p.pair_key, b.pick_state)) AS pair_key
FROM pairs AS p, balance_params AS b
GROUP BY p.uuid;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.pair_key, p.text AS caption
FROM metaclip_with_u('pairs', (SELECT keep_state FROM balance_params)) AS p
SEMI JOIN image_texts AS i USING (uuid, pair_key), prob_lookup AS l
WHERE metaclip_kept(p.u, p.entry_ids, l.t, l.heads, l.counts);
