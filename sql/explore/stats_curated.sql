-- What a balance run kept, to set beside the expected size.
-- Inputs:  curated (from curated.sql)
-- Output:  one row: curated_pairs, curated_images
-- Grain:   one row.

SELECT count(*) AS curated_pairs, count(DISTINCT uuid) AS curated_images
FROM curated;
