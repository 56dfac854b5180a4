-- explain with a balance output: which of the pairs explained its curated set holds.
-- Inputs:  balance_curated (view over <balance out>/curated.parquet, a file or parts),
--          explain_rows (explain_by_*.sql)
-- Output:  uuid, text
-- Grain:   one row per curated pair of the images explained.

SELECT DISTINCT c.uuid, c.text
FROM balance_curated AS c
WHERE c.uuid IN (SELECT DISTINCT uuid FROM explain_rows);
