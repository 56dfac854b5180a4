"""What becomes of one deduplicated text: matched, language-identified, kept or dropped.

MetaCLIP 1 (one `Matcher`): texts are matched first (cheaper, and it drops most texts), then
matched texts (all, with `keep_unmatched`) get language id, and `--lang` filters. MetaCLIP 2
(`LanguageMatchers`): language id first, since it picks the list; a text whose language has no
list is counted and dropped.

Both steps are pure functions of the text, and a shard repeats many texts (an image's alt text
on every page of a site, "logo", "Facebook", ...), so verdicts are cached per text, in a dict
bounded at `CACHE_TEXTS` entries (emptied when full). A cached verdict is the one computed the
first time: outputs are the same as without the cache (tests/extract/test_classify.py).
"""

from __future__ import annotations

from collections.abc import Callable

from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.metadata.lang import LanguageMatchers
from metaclip_sql.metadata.matching import Matcher

#: Distinct texts whose verdicts are remembered at once (each costs its text and a tuple).
CACHE_TEXTS = 200_000

#: What a verdict adds to the shard's counts (an index into `Verdicts.counts`).
NOTHING, MATCHED, NO_METADATA = 0, 1, 2

#: (keep the row, lang, lang_score, entry ids, count): lang and score are None when not needed.
Verdict = tuple[bool, "str | None", "float | None", list[int], int]


class Verdicts:
    """`verdict(text)` for every text of a shard, and how many of each count were given."""

    def __init__(
        self,
        matcher: Matcher | LanguageMatchers,
        lid: LanguageId,
        langs: frozenset[str] | None,
        keep_unmatched: bool,
        cache_texts: int = CACHE_TEXTS,
    ) -> None:
        self.lid = lid
        self.langs = langs
        self.keep_unmatched = keep_unmatched
        self.cache_texts = cache_texts
        self.counts = [0, 0, 0]  # NOTHING, MATCHED, NO_METADATA given out
        self._cache: dict[str, Verdict] = {}
        self._compute: Callable[[str], Verdict]
        if isinstance(matcher, LanguageMatchers):
            self._by_lang = matcher
            self._compute = self._lid_first
        else:
            self._match = matcher.match
            self._compute = self._match_first

    def verdict(self, text: str) -> Verdict:
        found = self._cache.get(text)
        if found is None:
            found = self._compute(text)
            if len(self._cache) >= self.cache_texts:
                self._cache.clear()
            self._cache[text] = found
        self.counts[found[4]] += 1
        return found

    def _match_first(self, text: str) -> Verdict:
        ids = self._match(text)
        count = MATCHED if ids else NOTHING
        if not ids and not self.keep_unmatched:
            return False, None, None, ids, count
        lang, score = self.lid.predict(text)
        keep = self.langs is None or lang in self.langs
        return keep, lang, score, ids, count

    def _lid_first(self, text: str) -> Verdict:
        """MetaCLIP 2: `--lang` selects metadata languages (after the lang map), which is what
        `lang` holds."""
        label, score = self.lid.predict(text)
        lang, lang_matcher = self._by_lang.route(label)
        if self.langs is not None and lang not in self.langs:
            return False, lang, score, [], NOTHING
        if lang_matcher is None:
            return False, lang, score, [], NO_METADATA
        ids = lang_matcher.match(text)
        if ids:
            return True, lang, score, ids, MATCHED
        return self.keep_unmatched, lang, score, ids, NOTHING
