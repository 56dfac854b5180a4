-- Step 2b (worldwide): one threshold per language, all with English's tail proportion.
-- Inputs:  lang_entry_counts (table: lang, entry_id, count; from 020_entry_counts.sql, or from
--          explore's stats_lang_counts.sql), $t_en (DOUBLE > 0, e.g. 170000),
--          $anchor (VARCHAR, 'en': the language t_en is given for)
-- Output:  lang_thresholds (table: lang, t, p), one row per language with candidates
-- Grain:   one row per language.
--
-- p = t_to_p(anchor counts, t_en): the share of the anchor's matches held by entries with
-- count < t_en. Every other language gets t = p_to_t(its counts, p): sort its counts, take the
-- cumulative share at each position (a window over the sorted counts), and pick the count at the
-- position whose share is closest to p, the first such position on a tie (numpy's argmin, as in
-- the reference's curate.py). The anchor keeps t_en itself, as the reference does.
-- Entries never matched are not in lang_entry_counts; the reference's arrays hold them as zeros,
-- which only matters for a p below a language's smallest non-zero share (the reference then gives
-- t = 0 and samples nothing; here t is the language's smallest count, so its entries with that
-- count keep every text and those with larger counts are sampled down to about t).

CREATE OR REPLACE TEMP TABLE lang_thresholds AS
WITH anchor AS (
    SELECT coalesce(sum(count) FILTER (WHERE count < $t_en::DOUBLE) / sum(count), 0.0) AS p
    FROM lang_entry_counts
    WHERE lang = $anchor
),
shares AS (
    SELECT
        lang,
        count,
        sum(count) OVER (PARTITION BY lang ORDER BY count ROWS UNBOUNDED PRECEDING)
            / sum(count) OVER (PARTITION BY lang) AS share
    FROM lang_entry_counts
),
ranked AS (
    SELECT
        s.lang,
        s.count,
        a.p,
        row_number() OVER (PARTITION BY s.lang ORDER BY abs(s.share - a.p), s.share) AS rank
    FROM shares AS s, anchor AS a
)
SELECT
    lang,
    CASE WHEN lang = $anchor THEN $t_en::DOUBLE ELSE count::DOUBLE END AS t,
    p
FROM ranked
WHERE rank = 1;
