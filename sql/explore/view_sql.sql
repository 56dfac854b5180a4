-- The SQL DuckDB recorded for a view, to replay it in the shell's init script.
-- Inputs:  the catalog (duckdb_views()), $name (VARCHAR: a view defined from Python, e.g. shards)
-- Output:  sql VARCHAR (a complete CREATE VIEW statement)
-- Grain:   one row per view of that name (one).

SELECT sql
FROM duckdb_views()
WHERE view_name = $name AND NOT internal;
