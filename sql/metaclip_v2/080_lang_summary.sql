-- Step 8 (worldwide): what the manifest records per language.
-- Inputs:  lang_summary (030), kept_totals (055, 056 or 060)
-- Output:  one row per language: lang, t, p, tail_proportion, pairs, kept, entries, head_entries
-- Grain:   one row per language, by lang.

SELECT
    s.lang,
    s.t,
    s.p,
    s.tail_proportion,
    s.pairs,
    coalesce(k.kept, 0)::BIGINT AS kept,
    s.entries,
    s.head_entries
FROM lang_summary AS s
LEFT JOIN kept_totals AS k ON k.lang = s.lang
ORDER BY s.lang;
