-- Step 4 (--unit pair, MetaCLIP 1): keep a pair when any of its (pair, entry) draws is kept.
-- Inputs:  pairs (from 010_pairs.sql), prob_lookup (from 030_probs.sql), balance_params (seed)
-- Output:  curated (view: the extract columns plus caption = text)
-- Grain:   one row per kept (uuid, text).
--
-- Row (pair, entry) is kept when its draw u < prob = t / count (head entries; tail entries,
-- count <= t, have prob 1 and are always kept). The draw of the entry at position i (1-based)
-- of the pair's sorted entry_ids is 32 bits of an md5:
--     D_b = md5_number(concat_ws(chr(31), seed, uuid, text, b)),  b = (i - 1) // 4
--     u   = ((D_b >> (32 * ((i - 1) % 4))) & (2^32 - 1)) / 2^32
-- md5_number reads the digest as a little-endian 128-bit integer, so one md5 gives the draws of
-- four entries. md5 is the same on every machine and DuckDB version (DuckDB's hash() is not
-- across versions), so a seed names one sample; a larger t only raises probabilities, so it
-- keeps a superset. Never random(): a volatile filter next to a join can be pushed to the
-- per-entry side and flip one coin per entry instead of per row.
-- Order of the work: a pair with a tail entry needs no draw. Its first and last entries are
-- tested in the head bitset first (settles most pairs for two bit reads), a one-entry pair gets
-- its one draw without a lambda, and only the rest walk their list. The md5 is computed once per
-- pair, bound as the parameter of a one-element list_transform so the inner lambda reuses it.

CREATE OR REPLACE TEMP MACRO metaclip_digest(seed, uuid, text, block) AS
    md5_number(concat_ws(chr(31), seed, uuid, text, block));

CREATE OR REPLACE TEMP MACRO metaclip_u(digest, i) AS
    ((digest >> (32 * ((i - 1) % 4))::UHUGEINT) & 4294967295::UHUGEINT)::DOUBLE / 4294967296.0;

CREATE OR REPLACE TEMP MACRO metaclip_any_draw(seed, uuid, text, entry_ids, t, counts) AS
    list_bool_or(list_transform(
        [metaclip_digest(seed, uuid, text, 0)],
        lambda first_digest: list_bool_or(list_transform(
            entry_ids,
            lambda e, i: metaclip_u(
                CASE
                    WHEN i <= 4 THEN first_digest
                    ELSE metaclip_digest(seed, uuid, text, (i - 1) // 4)
                END,
                i
            ) < t / counts[e + 1]
        ))
    ));

CREATE OR REPLACE TEMP MACRO metaclip_kept(seed, uuid, text, entry_ids, t, heads, counts) AS
    CASE
        WHEN get_bit(heads, entry_ids[1]) = 0 OR get_bit(heads, entry_ids[-1]) = 0 THEN true
        WHEN len(entry_ids) = 1
            THEN metaclip_u(metaclip_digest(seed, uuid, text, 0), 1) < t / counts[entry_ids[1] + 1]
        WHEN len(entry_ids) > 2
            AND list_bool_or(list_transform(entry_ids, lambda e: get_bit(heads, e) = 0)) THEN true
        ELSE metaclip_any_draw(seed, uuid, text, entry_ids, t, counts)
    END;

CREATE OR REPLACE TEMP VIEW curated AS
SELECT
    p.uuid, p.url, p.text, p.text_key, p.lang, p.lang_score, p.entry_ids, p.page_url, p.shard,
    p.text AS caption
FROM pairs AS p, prob_lookup AS l, balance_params AS b
WHERE metaclip_kept(b.seed, p.uuid, p.text, p.entry_ids, l.t, l.heads, l.counts);
