-- Write a query result as one JSON array of objects (lists and structs stay JSON).
-- Inputs:  result (view: the user's query), $path (file to write)
-- Output:  the file at $path
-- Grain:   one object per result row, in the result's order.

COPY result TO $path (FORMAT json, ARRAY true);
