-- explain with a balance run's --valid-uuids: which images explained the run admitted.
-- Inputs:  valid_ids (valid_ids.sql), explain_rows (explain_by_*.sql)
-- Output:  uuid
-- Grain:   one row per admitted image (its uuid or its url listed).

SELECT DISTINCT r.uuid
FROM explain_rows AS r
WHERE r.uuid IN (SELECT value FROM valid_ids)
   OR r.url IN (SELECT value FROM valid_ids);
