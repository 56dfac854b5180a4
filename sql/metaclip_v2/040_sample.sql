-- Step 4 (worldwide, --unit pair): keep a pair when any of its (pair, entry) draws is kept,
-- against the probabilities of the pair's own language.
-- Inputs:  pairs (010), prob_vectors (030), balance_params (seed)
-- Output:  curated (view: the extract columns plus caption = text)
-- Grain:   one row per kept (uuid, text).
--
-- The draw and the decision are metaclip_v1/040_sample.sql's, to the bit: u =
-- (md5_number(concat_ws(x'1f', seed, uuid, text, entry_id)) >> 75) / 2^53, kept when
-- u < prob[entry_id]; a pair with any tail entry is kept without drawing.

CREATE OR REPLACE TEMP MACRO metaclip_draw(seed, uuid, text, entry_id) AS
    (md5_number(concat_ws(chr(31), seed, uuid, text, entry_id)) >> 75)::DOUBLE
        / 9007199254740992.0;

CREATE OR REPLACE TEMP MACRO metaclip_kept(seed, uuid, text, entry_ids, probs) AS
    CASE
        WHEN probs[entry_ids[1] + 1] >= 1.0 OR probs[entry_ids[-1] + 1] >= 1.0 THEN true
        WHEN list_max(list_transform(entry_ids, lambda e: probs[e + 1])) >= 1.0 THEN true
        ELSE list_bool_or(
            list_transform(entry_ids, lambda e: metaclip_draw(seed, uuid, text, e) < probs[e + 1])
        )
    END;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.text AS caption
FROM pairs AS p
JOIN prob_vectors AS v USING (lang), balance_params AS b
WHERE metaclip_kept(b.seed, p.uuid, p.text, p.entry_ids, v.probs);
