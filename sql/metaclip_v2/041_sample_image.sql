-- Step 4 (worldwide, --unit image, the default): one text per image, of any language, kept with
-- probability 1 - prod(1 - prob) under its own language's probabilities.
-- Inputs:  pairs (010), prob_vectors (030), balance_params (seed), the macros of 040_sample.sql
-- Output:  image_texts (view: uuid, text picked per image), curated (view, as in 040_sample.sql)
-- Grain:   one row per kept image.
--
-- The pick is metaclip_v1/041_sample_image.sql's: the text with the smallest
-- md5_number(seed || x'1f' || 'pick' || x'1f' || uuid || x'1f' || text), uniform over the
-- image's candidate texts (all languages together, as the reference's random.choice over an
-- image's matched texts). Entry counts are over all texts (step 2), as in the reference.

CREATE OR REPLACE TEMP VIEW image_texts AS
SELECT
    p.uuid,
    arg_min(
        p.text,
        md5_number(b.seed::VARCHAR || chr(31) || 'pick' || chr(31) || p.uuid || chr(31) || p.text)
    ) AS text
FROM pairs AS p, balance_params AS b
GROUP BY p.uuid;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.text AS caption
FROM pairs AS p
SEMI JOIN image_texts AS i USING (uuid, text)
JOIN prob_vectors AS v USING (lang), balance_params AS b
WHERE metaclip_kept(b.seed, p.uuid, p.text, p.entry_ids, v.probs);
