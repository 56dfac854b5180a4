-- What a balance run was expected to keep: its size and each entry's kept texts, to set beside
-- what it kept.
-- Inputs:  stats_pairs (stats_pairs.sql), entry_counts (the run's, materialized by
--          stats_prepare.sql), report_valid_images (uuid: the images its --valid-uuids
--          admitted, report_valid_images.sql), $t (DOUBLE), $langs (VARCHAR[], NULL for every
--          language), $valid (BOOLEAN: restrict to report_valid_images), $image (BOOLEAN:
--          --unit image)
-- Output:  report_expected_pairs (temp table: pair_id, uuid, ids, p),
--          report_expected_entries (temp table: entry_id, expected_kept), and one row:
--          candidates (pairs), expected (kept pairs), variance
-- Grain:   report_expected_entries one row per entry; the result one row.
-- A candidate pair (a selected language, a counted entry, an admitted image) is kept with
-- p = 1 - prod(1 - least(1, t / count)), independently of the others: the size's mean is the
-- sum of p and its variance the sum of p (1 - p). --unit image first picks one of an image's n
-- candidate texts: the image is kept with the mean p of its texts, and a text with p / n.

CREATE OR REPLACE TEMP TABLE report_expected_pairs AS
SELECT s.pair_id, any_value(s.uuid) AS uuid, list(s.entry_id) AS ids,
    1 - product(1 - least(1, $t::DOUBLE / e.count)) AS p
FROM (
    SELECT pair_id, uuid, unnest(entry_ids) AS entry_id
    FROM stats_pairs
    WHERE matches > 0
      AND ($langs::VARCHAR[] IS NULL OR list_contains($langs::VARCHAR[], lang))
      AND (NOT $valid OR uuid IN (SELECT uuid FROM report_valid_images))
) AS s
JOIN entry_counts AS e USING (entry_id)
GROUP BY s.pair_id;

CREATE OR REPLACE TEMP TABLE report_expected_entries AS
SELECT entry_id, sum(p / n) AS expected_kept
FROM (
    SELECT unnest(ids) AS entry_id, p,
        CASE WHEN $image THEN count(*) OVER (PARTITION BY uuid) ELSE 1 END AS n
    FROM report_expected_pairs
)
GROUP BY entry_id;

WITH images AS (
    SELECT uuid, avg(p) AS q
    FROM report_expected_pairs
    GROUP BY uuid
)
SELECT
    (SELECT count(*) FROM report_expected_pairs) AS candidates,
    CASE
        WHEN $image THEN (SELECT coalesce(sum(q), 0.0) FROM images)
        ELSE (SELECT coalesce(sum(p), 0.0) FROM report_expected_pairs)
    END AS expected,
    CASE
        WHEN $image THEN (SELECT coalesce(sum(q * (1 - q)), 0.0) FROM images)
        ELSE (SELECT coalesce(sum(p * (1 - p)), 0.0) FROM report_expected_pairs)
    END AS variance;
