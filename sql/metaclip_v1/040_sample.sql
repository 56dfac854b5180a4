-- Step 4 (--unit pair, MetaCLIP 1): keep a pair when any of its (pair, entry) draws is kept.
-- Inputs:  pairs (from 010_pairs.sql), prob_vector (from 030_probs.sql), balance_params (seed)
-- Output:  curated (view: the extract columns plus caption = text)
-- Grain:   one row per kept (uuid, text).
--
-- The draw of row (uuid, text, entry_id) is
--     u = (md5_number(concat_ws(x'1f', seed, uuid, text, entry_id)) >> 75) / 2^53
-- (md5_number reads the 16 digest bytes as a little-endian 128-bit integer; the top 53 bits give
-- a uniform double in [0, 1)); the row is kept when u < prob[entry_id]. md5 is the same on every
-- machine and DuckDB version, so a seed names one sample; a larger t only raises probabilities,
-- so it keeps a superset. Never random(): a volatile filter next to a join can be pushed to the
-- per-entry side and flip one coin per entry instead of per row.
-- A pair with any tail entry (prob = 1) is kept whatever its draws, so draws are computed only
-- for pairs whose entries are all head entries (CASE evaluates a branch for its rows only); the
-- first and last entries are looked up before the whole list, which settles most pairs cheaply.

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
FROM pairs AS p, prob_vector AS v, balance_params AS b
WHERE metaclip_kept(b.seed, p.uuid, p.text, p.entry_ids, v.probs);
