-- The report's images admitted by the balance run's --valid-uuids.
-- Inputs:  pairs (pairs.sql), valid_ids (valid_ids.sql)
-- Output:  report_valid_images (temp table: uuid)
-- Grain:   one row per admitted image of the pool (its uuid or its url listed).
-- One extra pass over the uuid and url columns, only when the run used --valid-uuids.

CREATE OR REPLACE TEMP TABLE report_valid_images AS
SELECT DISTINCT uuid
FROM pairs
WHERE uuid IN (SELECT value FROM valid_ids)
   OR url IN (SELECT value FROM valid_ids);
