-- Per language: its worldwide threshold, tail proportion and head entries.
-- Inputs:  lang_entry_counts (stats_lang_counts.sql),
--          lang_thresholds (metaclip_v2/025_thresholds.sql)
-- Output:  lang, t, p (English's tail proportion), tail_proportion (this language's at its t),
--          entries (matched at least once), head_entries (count > t), matches
-- Grain:   one row per language, by matches descending then lang.

SELECT
    c.lang,
    t.t,
    t.p,
    coalesce(sum(c.count) FILTER (WHERE c.count < t.t) / sum(c.count), 0.0) AS tail_proportion,
    count(*) AS entries,
    count(*) FILTER (WHERE c.count > t.t) AS head_entries,
    sum(c.count)::BIGINT AS matches
FROM lang_entry_counts AS c
JOIN lang_thresholds AS t USING (lang)
GROUP BY c.lang, t.t, t.p
ORDER BY matches DESC, c.lang;
