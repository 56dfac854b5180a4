-- Step 4 (worldwide, --unit image, the default): one text per image, of any language, kept with
-- probability 1 - prod(1 - prob) under its own language's probabilities.
-- Inputs:  pairs (010), prob_vectors (030), balance_params (keep_state, pick_state), the macros
--          of 040_sample.sql (run first) and of sql/common/draws.sql
-- Output:  image_texts (view: uuid, pair_key of the text picked per image), curated (view, as
--          in 040_sample.sql)
-- Grain:   one row per kept image.
--
-- The pick is metaclip_v1/041_sample_image.sql's: the text with the smallest metaclip_pick
-- (high 64 bits of pair_key, mixed with pick_state), uniform over the image's candidate texts
-- (all languages together, as the reference's random.choice over an image's matched texts),
-- fixed by the seed and independent of the keep draw. The picked text is then kept as in
-- 040_sample.sql. Entry counts are over all texts (step 2), as in the reference.

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
SEMI JOIN image_texts AS i USING (uuid, pair_key)
JOIN prob_vectors AS v USING (lang)
WHERE metaclip_kept(p.u, p.entry_ids, v.probs);
