-- Step 4 (--unit image, MetaCLIP 2): one text per image, kept with probability 1 - prod(1 - prob).
-- Inputs:  pairs (from 010_pairs.sql), prob_lookup (from 030_probs.sql), balance_params (seed),
--          the macros of 040_sample.sql (run first)
-- Output:  image_texts (view: uuid, text picked per image), curated (view, as in 040_sample.sql)
-- Grain:   one row per kept image.
--
-- The picked text is the one with the smallest md5_number(concat_ws(chr(31), seed, 'pick', uuid,
-- text)): uniform over the image's texts, and fixed by the seed. It is then kept
-- when any of its per-entry draws is under its entry's prob, which happens with probability
-- exactly 1 - prod(1 - prob) (the reference draws that once per image; same distribution).
-- Entry counts are over all texts (step 2), as in the reference.

CREATE OR REPLACE TEMP VIEW image_texts AS
SELECT
    p.uuid,
    arg_min(
        p.text,
        md5_number(concat_ws(chr(31), b.seed, 'pick', p.uuid, p.text))
    ) AS text
FROM pairs AS p, balance_params AS b
GROUP BY p.uuid;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.text AS caption
FROM pairs AS p
SEMI JOIN image_texts AS i USING (uuid, text), prob_lookup AS l, balance_params AS b
WHERE metaclip_kept(b.seed, p.uuid, p.text, p.entry_ids, l.t, l.heads, l.counts);
