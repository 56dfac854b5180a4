-- The images a balance run admitted with --valid-uuids, read again from the files its manifest
-- lists (explain and report decide as that run did).
-- Inputs:  valid_input (view: value VARCHAR, a uuid or an image url per row, defined by
--          explore/balance_run.py the way balance reads --valid-uuids files)
-- Output:  valid_ids (temp table: value VARCHAR, distinct)
-- Grain:   one row per value.
-- The same rule as balance's (common/005_valid_ids.sql): values are trimmed of spaces, tabs and
-- carriage returns, blank ones dropped, and a row is admitted when its uuid or its url is one.

CREATE OR REPLACE TEMP TABLE valid_ids AS
SELECT DISTINCT trim(value, e' \t\r') AS value
FROM valid_input
WHERE trim(value, e' \t\r') <> '';
