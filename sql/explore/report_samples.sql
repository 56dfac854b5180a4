-- Sample texts of a few head and tail entries, with their image URLs.
-- Inputs:  report_slice (report_slice.sql), entry_counts (materialized by stats_prepare.sql),
--          $t (DOUBLE: the threshold that splits head from tail), $entries (BIGINT: entries of
--          each kind), $texts (BIGINT: texts per entry)
-- Output:  kind ('head' or 'tail'), entry_id, entry, count, texts (a list of structs: text,
--          url, lang; at most $texts distinct pairs, a fixed pseudo-random choice: the smallest
--          md5 of uuid and text)
-- Grain:   one row per entry shown: the $entries largest head entries (count > t) seen in the
--          slice, and $entries tail entries (count <= t) seen in it, a fixed pseudo-random
--          choice; by kind, then count descending.

WITH seen AS (
    SELECT e.entry_id, e.entry, e.count
    FROM entry_counts AS e
    SEMI JOIN report_slice AS s USING (entry_id)
),
head AS (
    SELECT 'head' AS kind, *
    FROM seen
    WHERE count > $t
    ORDER BY count DESC, entry_id
    LIMIT $entries
),
tail AS (
    SELECT 'tail' AS kind, *
    FROM seen
    WHERE count <= $t
    ORDER BY (entry_id::UBIGINT * 2654435761) % 4294967291, entry_id
    LIMIT $entries
),
chosen AS (
    SELECT * FROM head
    UNION ALL
    SELECT * FROM tail
),
texts AS (
    SELECT DISTINCT s.entry_id, s.uuid, s.url, s.text, s.lang
    FROM report_slice AS s
    SEMI JOIN chosen AS c USING (entry_id)
)
SELECT
    c.kind,
    c.entry_id,
    c.entry,
    c.count,
    arg_min({'text': x.text, 'url': x.url, 'lang': x.lang}, md5(x.uuid || chr(31) || x.text), $texts)
        AS texts
FROM chosen AS c
JOIN texts AS x USING (entry_id)
GROUP BY c.kind, c.entry_id, c.entry, c.count
ORDER BY c.kind, c.count DESC, c.entry_id;
