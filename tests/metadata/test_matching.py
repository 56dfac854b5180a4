"""The matcher equals the reference's naive loop, on real alt texts and on adversarial ones."""

from __future__ import annotations

import pickle
import random

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType
from hypothesis import given, settings
from hypothesis import strategies as st

from metaclip_sql.extract.html import PageCounts, image_texts
from metaclip_sql.metadata.matching import (
    CACHE_FORMAT,
    Matcher,
    entries_digest,
    load_automaton,
    naive_match,
    spacing,
)
from tests.helpers.data import REAL_PAGES, require


def test_spacing_pads_punctuation_and_ends() -> None:
    assert spacing("a,b.c;d:e?f!g`h") == " a , b . c ; d : e ? f ! g ` h "
    assert spacing("tab\there\nnl\rcr") == " tab here nl cr "
    assert spacing("") == "  "


def test_match_is_case_sensitive_and_token_bounded() -> None:
    entries = ["dog", "Dog", "hot dog", "dogs", "U.S.", "U", "a  b"]
    matcher = Matcher(entries, use_cache=False)
    assert matcher.match("A hot dog, please.") == [0, 2]
    assert matcher.match("Dogs and dog") == [0]
    # "U.S." is split by spacing(), so it can never match; its letters can.
    assert matcher.match("Made in the U.S.") == [5]
    assert matcher.match("a  b") == [6]  # double space kept in the text


def test_empty_entry_matches_wherever_spacing_doubles_a_space() -> None:
    matcher = Matcher(["", "dog"], use_cache=False)
    assert matcher.match("dog") == [1]
    assert matcher.match("dog, cat") == [0, 1]  # " dog ,  cat " has two spaces in a row


def test_duplicate_entries_all_reported() -> None:
    matcher = Matcher(["cat", "cat", "dog"], use_cache=False)
    assert matcher.match("cat") == [0, 1]


def _real_texts() -> list[str]:
    texts: dict[str, None] = {}
    path = str(require(REAL_PAGES))
    for rec in ArchiveIterator(path, record_types=WarcRecordType.response, fsspec_args=False):
        body = rec.reader.read()
        for _, _, text in image_texts(body, rec.headers.get("WARC-Target-URI"), None, PageCounts()):
            texts.setdefault(text, None)
    return list(texts)


def _large_metadata(texts: list[str]) -> list[str]:
    """Words and n-grams of the texts themselves (so there are many hits), common English
    words, and entries the padding rules treat specially."""
    rng = random.Random(7)
    entries: dict[str, None] = {}
    for text in texts:
        words = text.split()
        for n in (1, 2, 3):
            for i in range(0, max(len(words) - n + 1, 0)):
                if rng.random() < 0.5:
                    entries.setdefault(" ".join(words[i : i + n]), None)
    try:
        import wordfreq

        for word in wordfreq.top_n_list("en", 20000):
            entries.setdefault(word, None)
    except ImportError:  # the dev extra brings it; the test still has the n-grams
        pass
    for tricky in ["U.S.", "Mr.", "e.g.", " the", "the ", "a  b", "", ",", "New York", "café"]:
        entries.setdefault(tricky, None)
    return list(entries)


@pytest.mark.slow
def test_matcher_equals_naive_loop_on_real_alt_texts() -> None:
    texts = _real_texts()
    entries = _large_metadata(texts)
    assert len(texts) > 1500 and len(entries) > 20000
    matcher = Matcher(entries, use_cache=False)
    mismatches = [t for t in texts if matcher.match(t) != naive_match(t, entries)]
    assert mismatches == []
    assert sum(bool(matcher.match(t)) for t in texts) > len(texts) // 2


_ALPHABET = st.sampled_from(list("ab c.,;:?!`\t\n\rAé日"))


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(st.text(_ALPHABET, max_size=5), min_size=1, max_size=25),
    texts=st.lists(st.text(_ALPHABET, max_size=30), min_size=1, max_size=10),
)
def test_matcher_equals_naive_loop_on_adversarial_inputs(
    entries: list[str], texts: list[str]
) -> None:
    matcher = Matcher(entries, use_cache=False)
    for text in texts:
        assert matcher.match(text) == naive_match(text, entries)


def test_automaton_cache_round_trip(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("METACLIP_SQL_CACHE", str(tmp_path))
    entries = ["red car", "car", "blue"]
    load_automaton(entries)
    cached = list(tmp_path.glob(f"automaton-{CACHE_FORMAT}-{entries_digest(entries)[:32]}.pkl"))
    assert len(cached) == 1
    again = Matcher(entries)  # loaded from the file
    assert again.match("a red car and a blue one") == [0, 1, 2]
    # Different order, different ids: a different cache key.
    assert entries_digest(entries) != entries_digest(list(reversed(entries)))


def test_matcher_from_file_caches_by_file_bytes(tmp_path, monkeypatch, metadata_file) -> None:
    monkeypatch.setenv("METACLIP_SQL_CACHE", str(tmp_path / "cache"))
    path = metadata_file(["red car", "car", "blue"])
    first = Matcher.from_file(path)
    assert len(list((tmp_path / "cache").glob(f"automaton-{CACHE_FORMAT}-file-*.pkl"))) == 1
    again = Matcher.from_file(path)  # from the cache: the list is not parsed again
    assert again.size == 3 and again.match("a red car and a blue one") == [0, 1, 2]
    assert first.match("blue car") == again.match("blue car") == [1, 2]
    path.write_text('["blue"]', encoding="utf-8")  # new bytes, new key
    assert Matcher.from_file(path).match("blue car") == [0]
    with pytest.raises(ValueError, match="cannot read metadata"):
        Matcher.from_file(tmp_path / "missing.json")


def test_entries_sharing_a_key_are_all_found() -> None:
    """Duplicate entries pad to one key: its value names all their ids."""
    entries = ["cat", "dog", "cat", "black cat", "cat", "dog"]
    matcher = Matcher(entries, use_cache=False)
    for text in ("a black cat and a dog", "cat", "dogs", "hot dog, cat."):
        assert matcher.match(text) == naive_match(text, entries)
    assert matcher.match("a black cat and a dog") == [0, 1, 2, 3, 4, 5]


def test_a_cache_file_of_another_layout_is_rebuilt(tmp_path, monkeypatch, metadata_file) -> None:
    monkeypatch.setenv("METACLIP_SQL_CACHE", str(tmp_path / "cache"))
    path = metadata_file(["red car", "car"])
    Matcher.from_file(path)
    (cached,) = (tmp_path / "cache").glob("automaton-*-file-*.pkl")
    cached.write_bytes(pickle.dumps((2, {"not": "an automaton"})))
    assert Matcher.from_file(path).match("a red car") == [0, 1]
    load_automaton(["x", "y"])
    digest = entries_digest(["x", "y"])[:32]
    (tmp_path / "cache" / f"automaton-{CACHE_FORMAT}-{digest}.pkl").write_bytes(b"garbage")
    assert Matcher(["x", "y"]).match("y x") == [0, 1]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ,.;:?!`\t\n\r-é猫")), max_size=30))
def test_spacing_equals_the_per_character_rule(text: str) -> None:
    """Each of , . ; : ? ! ` gets a space on both sides, tab/CR/LF become a space, the text is
    padded: the rule written one character at a time."""
    rule = {c: f" {c} " for c in ",.;:?!`"} | {c: " " for c in "\t\n\r"}
    assert spacing(text) == " " + "".join(rule.get(c, c) for c in text) + " "
