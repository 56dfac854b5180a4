-- Step 3 (worldwide): each (lang, entry)'s keep probability, prob = least(1, t_lang / count).
-- Inputs:  lang_entry_counts, lang_totals (020), lang_thresholds (025)
-- Output:  entry_probs  (table: lang, entry_id, count, prob)
--          prob_vectors (table: lang, probs DOUBLE[] with probs[entry_id + 1] = prob, 1.0 for
--                        entries never matched), so sampling looks entries up without a join
--          lang_summary (table: lang, t, p, tail_proportion, pairs, entries, head_entries)
-- Grain:   entry_probs one row per matched (lang, entry); the others one row per language.

CREATE OR REPLACE TEMP TABLE entry_probs AS
SELECT c.lang, c.entry_id, c.count, least(1.0, t.t / c.count) AS prob
FROM lang_entry_counts AS c
JOIN lang_thresholds AS t USING (lang);

CREATE OR REPLACE TEMP TABLE prob_vectors AS
WITH ids AS (
    SELECT lang, unnest(range(max(entry_id) + 1))::INTEGER AS entry_id
    FROM lang_entry_counts
    GROUP BY lang
)
SELECT ids.lang, list(coalesce(p.prob, 1.0) ORDER BY ids.entry_id) AS probs
FROM ids
LEFT JOIN entry_probs AS p USING (lang, entry_id)
GROUP BY ids.lang;

CREATE OR REPLACE TEMP TABLE lang_summary AS
SELECT
    e.lang,
    t.t,
    t.p,
    coalesce(sum(e.count) FILTER (WHERE e.count < t.t) / sum(e.count), 0.0) AS tail_proportion,
    any_value(m.pairs) AS pairs,
    count(*) AS entries,
    count(*) FILTER (WHERE e.prob < 1.0) AS head_entries
FROM entry_probs AS e
JOIN lang_thresholds AS t USING (lang)
JOIN lang_totals AS m ON m.lang = e.lang
GROUP BY e.lang, t.t, t.p;
