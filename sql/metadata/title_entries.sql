-- Title entries: Wikipedia article titles by page views summed over many pageview dump files.
-- Input:  view pageview_lines(project VARCHAR, title VARCHAR, views BIGINT), one row per line
--         `project title views bytes` of every dump file (e.g. `en Dog 120 0`), streamed.
-- Params: $projects VARCHAR[] (project codes counted; MetaCLIP: ['en'], desktop English),
--         $min_row_views BIGINT (lines with fewer views are ignored; MetaCLIP: 50),
--         $min_views BIGINT (threshold on the summed views; MetaCLIP: 70).
-- Output: entry VARCHAR, views BIGINT.
-- Grain:  one row per distinct title (underscores turned into spaces) summing to >= $min_views,
--         ordered by views descending, then entry. Titles holding ':' (namespace pages such as
--         `Special:Search`, `File:...`) are left out, as in the reference.
SELECT replace(title, '_', ' ') AS entry, sum(views) AS views
FROM pageview_lines
WHERE list_contains($projects, project)
    AND views >= $min_row_views
    AND title IS NOT NULL
    AND NOT contains(title, ':')
GROUP BY entry
HAVING sum(views) >= $min_views
ORDER BY views DESC, entry;
