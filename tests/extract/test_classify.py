"""Cached verdicts equal the verdict computed afresh for every text, in both modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metaclip_sql.extract.classify import MATCHED, NO_METADATA, NOTHING, Verdicts
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.metadata.lang import LanguageMatchers, load_lang_map
from metaclip_sql.metadata.matching import Matcher

ENTRIES = ["cat", "sofa", "dog", "black cat", "Katze", "猫"]
TEXTS = [
    "A black cat sleeping on the sofa",
    "nothing to see here",
    "Eine schwarze Katze auf dem Sofa",
    "黒い猫がソファの上で寝ている",
    "Un chien joue dans le jardin",
    "logo",
] * 3


@pytest.fixture(scope="module")
def lid() -> LanguageId:
    return LanguageId()


def _slow_single(text, matcher, lid, langs, keep_unmatched):
    """Match first; language id for what is kept; --lang filters."""
    ids = matcher.match(text)
    count = MATCHED if ids else NOTHING
    if not ids and not keep_unmatched:
        return False, count
    lang, _ = lid.predict(text)
    return (langs is None or lang in langs), count


@pytest.mark.parametrize("langs", [None, frozenset({"en"})])
@pytest.mark.parametrize("keep_unmatched", [False, True])
@pytest.mark.parametrize("cache_texts", [1, 2, 1000])
def test_single_list_verdicts(lid, langs, keep_unmatched, cache_texts) -> None:
    matcher = Matcher(ENTRIES, use_cache=False)
    verdicts = Verdicts(matcher, lid, langs, keep_unmatched, cache_texts)
    counts = [0, 0, 0]
    for text in TEXTS:
        keep, lang, score, ids, count = verdicts.verdict(text)
        want_keep, want_count = _slow_single(text, matcher, lid, langs, keep_unmatched)
        assert (keep, ids, count) == (want_keep, matcher.match(text), want_count)
        if keep:
            assert (lang, score) == lid.predict(text)
        counts[count] += 1
        assert len(verdicts._cache) <= cache_texts
    assert verdicts.counts == counts


@pytest.mark.parametrize("langs", [None, frozenset({"de", "ja"})])
def test_per_language_verdicts(tmp_path: Path, lid, langs) -> None:
    lists = {"en": ["cat", "sofa"], "de": ["Katze", "Sofa"], "ja": ["猫", "ソファ"]}
    for lang, entries in lists.items():
        (tmp_path / f"{lang}.json").write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    by_lang = LanguageMatchers(tmp_path, load_lang_map(), use_cache=False)
    verdicts = Verdicts(by_lang, lid, langs, keep_unmatched=False, cache_texts=4)
    for text in TEXTS:
        keep, lang, score, ids, count = verdicts.verdict(text)
        label, want_score = lid.predict(text)
        want_lang, matcher = by_lang.route(label)
        assert (lang, score) == (want_lang, want_score)
        if langs is not None and want_lang not in langs:
            assert (keep, count) == (False, NOTHING)
        elif matcher is None:
            assert (keep, count) == (False, NO_METADATA)
        else:
            want_ids = matcher.match(text)
            assert (keep, ids) == (bool(want_ids), want_ids)
            assert count == (MATCHED if want_ids else NOTHING)
