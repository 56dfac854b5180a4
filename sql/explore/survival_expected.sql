-- What curating at t_before now, downloading, and balancing the survivors at t gives, in
-- expectation (docs/explore.md, "Planning t before download").
-- Inputs:  survival_pairs (survival_prepare.sql), entry_counts (stats_prepare.sql),
--          $t_before (DOUBLE: the t curated with before download), $t (DOUBLE: the target t of
--          the final balance), $s (DOUBLE in (0, 1]: the share of downloaded images that
--          survive download and filtering), $image (BOOLEAN: --unit image, one text per image),
--          $tolerance (DOUBLE: how far below the ideal a head entry may fall and still count as
--          full, e.g. 0.01)
-- Output:  one row: expected_pairs_before (kept now), expected_images_before (to download),
--          expected_images_after (surviving), expected_pairs_available (candidates of the final
--          run: every matched text of a surviving image), expected_pairs_after (kept by the final
--          balance at t), expected_pairs_ideal (kept if every image were downloaded, s of them
--          surviving, and balanced at t), head_entries (s * count > t: the entries the final run
--          samples down), head_short (those the final run is expected to keep fewer texts of
--          than the ideal, beyond the tolerance), min_head_ratio (the smallest such ratio),
--          head_kept_after and head_kept_ideal (their kept texts, summed)
-- Grain:   one row.
-- Model: each pair is kept before download with p_b = 1 - prod(1 - least(1, t_before / count))
-- (--unit image: its image with the mean p_b of its texts); pairs are kept independently (one
-- draw per pair), an image is downloaded when one of its texts is kept, and survives with
-- probability s. The final run (balance --valid-uuids <survivors> --t t over the same pool)
-- counts every matched text of a surviving image (count_after[e], taken as its expectation:
-- the sum over e's texts of a = s * P(image downloaded)) and keeps a text with
-- p_a = 1 - prod(1 - least(1, t / count_after)); with the same seed in both runs a pair's two
-- decisions share its draw u (the CTE `kept`). The ideal run counts s * count.
WITH before AS (
    SELECT
        pair_id,
        image_id,
        texts,
        ids,
        1 - list_aggregate(
            list_transform(counts, lambda n: 1 - least(1, $t_before::DOUBLE / n)), 'product'
        ) AS p_before,
        1 - list_aggregate(
            list_transform(counts, lambda n: 1 - least(1, $t::DOUBLE / ($s::DOUBLE * n))),
            'product'
        ) AS p_ideal
    FROM survival_pairs
),
images AS MATERIALIZED (
    SELECT
        image_id,
        CASE WHEN $image THEN avg(p_before) ELSE 1 - product(1 - p_before) END AS downloaded
    FROM before
    GROUP BY image_id
),
available AS MATERIALIZED (
    SELECT
        b.pair_id,
        b.ids,
        b.p_before,
        b.p_ideal,
        i.downloaded,
        $s::DOUBLE * i.downloaded AS avail,
        b.texts
    FROM before AS b
    JOIN images AS i USING (image_id)
),
after_counts AS (
    SELECT entry_id, sum(avail) AS count_after
    FROM (SELECT unnest(ids) AS entry_id, avail FROM available)
    GROUP BY entry_id
),
after AS (
    -- Only the product is grouped: carrying the pair's other columns through this group-by
    -- (any_value of a list) cost twice the join back below.
    SELECT a.pair_id, 1 - product(1 - least(1, $t::DOUBLE / c.count_after)) AS p_after
    FROM (SELECT pair_id, unnest(ids) AS entry_id FROM available) AS a
    JOIN after_counts AS c USING (entry_id)
    GROUP BY a.pair_id
),
kept AS MATERIALIZED (
    -- The same seed in both runs draws the same u for a pair: a pair kept before (u < p_b) is
    -- kept after when u < p_a; a text of a downloaded image that was not kept (u >= p_b) only
    -- when p_a > p_b. --unit image picks the same text of a surviving image in both runs.
    SELECT
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
    JOIN after USING (pair_id)
),
heads AS MATERIALIZED (
    SELECT k.entry_id, sum(k.kept_after) AS kept_after, sum(k.kept_ideal) AS kept_ideal
    FROM (SELECT unnest(ids) AS entry_id, kept_after, kept_ideal FROM kept) AS k
    SEMI JOIN (SELECT entry_id FROM entry_counts WHERE $s::DOUBLE * count > $t::DOUBLE) AS e
        USING (entry_id)
    GROUP BY k.entry_id
)
SELECT
    (SELECT coalesce(sum(p_before / CASE WHEN $image THEN texts ELSE 1 END), 0.0) FROM available)
        AS expected_pairs_before,
    (SELECT coalesce(sum(downloaded), 0.0) FROM images) AS expected_images_before,
    $s::DOUBLE * (SELECT coalesce(sum(downloaded), 0.0) FROM images) AS expected_images_after,
    (SELECT coalesce(sum(avail), 0.0) FROM available) AS expected_pairs_available,
    (SELECT coalesce(sum(kept_after), 0.0) FROM kept) AS expected_pairs_after,
    (SELECT coalesce(sum(kept_ideal), 0.0) FROM kept) AS expected_pairs_ideal,
    (SELECT count(*) FROM heads) AS head_entries,
    (
        SELECT count(*) FILTER (WHERE kept_after < kept_ideal * (1 - $tolerance::DOUBLE))
        FROM heads
    ) AS head_short,
    (SELECT min(kept_after / kept_ideal) FROM heads) AS min_head_ratio,
    (SELECT coalesce(sum(kept_after), 0.0) FROM heads) AS head_kept_after,
    (SELECT coalesce(sum(kept_ideal), 0.0) FROM heads) AS head_kept_ideal;
