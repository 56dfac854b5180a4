-- What curating at t_before now, downloading, and balancing the survivors at t gives, in
-- expectation (docs/explore.md, "Planning t before download").
-- Inputs:  survival_pairs (survival_prepare.sql), entry_counts (stats_prepare.sql),
--          $t_befores (DOUBLE[]: the values of t_before to try, in one pass), $t (DOUBLE: the
--          target t of the final balance), $s (DOUBLE in (0, 1]: the share of downloaded images
--          that survive download and filtering), $image (BOOLEAN: --unit image, one text per
--          image), $tolerance (DOUBLE: how far below the ideal a head entry may fall and still
--          count as full, e.g. 0.01)
-- Output:  per t_before: expected_pairs_before (kept now), expected_images_before (to
--          download), expected_images_after (surviving), expected_pairs_available (candidates
--          of the final run: every matched text of a surviving image), expected_pairs_after
--          (kept by the final balance at t), expected_pairs_ideal (kept if every image were
--          downloaded, s of them surviving, and balanced at t), head_entries (s * count > t:
--          the entries the final run samples down), head_short (those the final run is
--          expected to keep fewer texts of than the ideal, beyond the tolerance),
--          min_head_ratio (the smallest such ratio), head_kept_after and head_kept_ideal
--          (their kept texts, summed)
-- Grain:   one row per distinct t_before, ascending.
-- Model: each pair is kept before download with p_b = 1 - prod(1 - least(1, t_before / count))
-- (--unit image: its image with the mean p_b of its texts); pairs are kept independently (one
-- draw per pair), an image is downloaded when one of its texts is kept, and survives with
-- probability s. The final run (balance --valid-uuids <survivors> --t t over the same pool)
-- counts every matched text of a surviving image (count_after[e], taken as its expectation:
-- the sum over e's texts of a = s * P(image downloaded)) and keeps a text with
-- p_a = 1 - prod(1 - least(1, t / count_after)); with the same seed in both runs a pair's two
-- decisions share its draw u (the CTE `kept`). The ideal run counts s * count.
-- Several t_before in one pass cost as much as one pass each (3M texts: 6.2 s for three, 1.8 s
-- for one), so the plan tries them one at a time, as its search does.

WITH tries AS (
    SELECT DISTINCT unnest($t_befores::DOUBLE[]) AS t_before
),
before AS (
    SELECT
        x.t_before,
        p.pair_id,
        p.image_id,
        p.texts,
        p.ids,
        1 - list_aggregate(
            list_transform(p.counts, lambda n: 1 - least(1, x.t_before / n)), 'product'
        ) AS p_before,
        1 - list_aggregate(
            list_transform(p.counts, lambda n: 1 - least(1, $t::DOUBLE / ($s::DOUBLE * n))),
            'product'
        ) AS p_ideal
    FROM survival_pairs AS p, tries AS x
),
images AS MATERIALIZED (
    SELECT
        t_before,
        image_id,
        CASE WHEN $image THEN avg(p_before) ELSE 1 - product(1 - p_before) END AS downloaded
    FROM before
    GROUP BY t_before, image_id
),
available AS MATERIALIZED (
    SELECT
        b.t_before,
        b.pair_id,
        b.ids,
        b.p_before,
        b.p_ideal,
        i.downloaded,
        $s::DOUBLE * i.downloaded AS avail,
        b.texts
    FROM before AS b
    JOIN images AS i USING (t_before, image_id)
),
after_counts AS (
    SELECT t_before, entry_id, sum(avail) AS count_after
    FROM (SELECT t_before, unnest(ids) AS entry_id, avail FROM available)
    GROUP BY t_before, entry_id
),
after AS (
    -- Only the product is grouped: carrying the pair's other columns through this group-by
    -- (any_value of a list) cost twice the join back below.
    SELECT a.t_before, a.pair_id, 1 - product(1 - least(1, $t::DOUBLE / c.count_after)) AS p_after
    FROM (SELECT t_before, pair_id, unnest(ids) AS entry_id FROM available) AS a
    JOIN after_counts AS c USING (t_before, entry_id)
    GROUP BY a.t_before, a.pair_id
),
kept AS MATERIALIZED (
    -- The same seed in both runs draws the same u for a pair: a pair kept before (u < p_b) is
    -- kept after when u < p_a; a text of a downloaded image that was not kept (u >= p_b) only
    -- when p_a > p_b. --unit image picks the same text of a surviving image in both runs.
    SELECT
        t_before,
        ids,
        $s::DOUBLE * CASE
            WHEN $image THEN least(p_before, p_after) / texts
            ELSE least(p_before, p_after) + CASE
                WHEN p_after > p_before
                    THEN (downloaded - p_before) * (p_after - p_before) / (1 - p_before)
                ELSE 0
            END
        END AS kept_after,
        $s::DOUBLE * p_ideal / CASE WHEN $image THEN texts ELSE 1 END AS kept_ideal
    FROM available
    JOIN after USING (t_before, pair_id)
),
heads AS (
    SELECT k.t_before, k.entry_id, sum(k.kept_after) AS kept_after, sum(k.kept_ideal) AS kept_ideal
    FROM (SELECT t_before, unnest(ids) AS entry_id, kept_after, kept_ideal FROM kept) AS k
    SEMI JOIN (SELECT entry_id FROM entry_counts WHERE $s::DOUBLE * count > $t::DOUBLE) AS e
        USING (entry_id)
    GROUP BY k.t_before, k.entry_id
),
per_pair AS (
    SELECT
        t_before,
        sum(p_before / CASE WHEN $image THEN texts ELSE 1 END) AS expected_pairs_before,
        sum(avail) AS expected_pairs_available
    FROM available
    GROUP BY t_before
),
per_image AS (
    SELECT t_before, sum(downloaded) AS downloaded
    FROM images
    GROUP BY t_before
),
per_kept AS (
    SELECT t_before, sum(kept_after) AS kept_after, sum(kept_ideal) AS kept_ideal
    FROM kept
    GROUP BY t_before
),
per_head AS (
    SELECT
        t_before,
        count(*) AS head_entries,
        count(*) FILTER (WHERE kept_after < kept_ideal * (1 - $tolerance::DOUBLE)) AS head_short,
        min(kept_after / kept_ideal) AS min_head_ratio,
        sum(kept_after) AS head_kept_after,
        sum(kept_ideal) AS head_kept_ideal
    FROM heads
    GROUP BY t_before
)
SELECT
    x.t_before,
    coalesce(a.expected_pairs_before, 0.0) AS expected_pairs_before,
    coalesce(i.downloaded, 0.0) AS expected_images_before,
    $s::DOUBLE * coalesce(i.downloaded, 0.0) AS expected_images_after,
    coalesce(a.expected_pairs_available, 0.0) AS expected_pairs_available,
    coalesce(k.kept_after, 0.0) AS expected_pairs_after,
    coalesce(k.kept_ideal, 0.0) AS expected_pairs_ideal,
    coalesce(h.head_entries, 0) AS head_entries,
    coalesce(h.head_short, 0) AS head_short,
    h.min_head_ratio,
    coalesce(h.head_kept_after, 0.0) AS head_kept_after,
    coalesce(h.head_kept_ideal, 0.0) AS head_kept_ideal
FROM tries AS x
LEFT JOIN per_pair AS a USING (t_before)
LEFT JOIN per_image AS i USING (t_before)
LEFT JOIN per_kept AS k USING (t_before)
LEFT JOIN per_head AS h USING (t_before)
ORDER BY x.t_before;
