"""MetaCLIP 2 matching for scripts written without spaces: the automaton equals the naive rule.

There is no shared CJK/Thai data in the workspace, so the "real" alt texts below are written
here, in the shapes such alt texts take on shopping, news and travel pages.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaclip_sql.metadata.matching import (
    CACHE_FORMAT,
    Matcher,
    entries_digest,
    is_unspaced_char,
    load_automaton,
    naive_match,
    naive_match_script,
    pad_entry,
)

ALT_TEXTS = [
    "黒い猫がソファの上で寝ている写真",
    "東京タワーと夕焼け、2023年撮影",
    "【送料無料】Tシャツ メンズ 半袖 白 綿100%",
    "iPhone 15 Pro ケース 手帳型「人気」",
    "京都の紅葉。清水寺からの眺め",
    "人々が渋谷のスクランブル交差点を渡る",
    "北京故宫的雪景，摄于2021年冬天",
    "一只小狗在草地上奔跑（高清图片）",
    "上海外滩夜景《城市之光》",
    "新款连衣裙 夏季 女装 韩版",
    "แมวสีดำนอนบนโซฟา",
    "วัดอรุณราชวรารามตอนพระอาทิตย์ตก",
    "ภาพถ่าย กรุงเทพ ตลาดน้ำ",
    "Logo of C++ and Python — プログラミング入門",
    "A cat on a sofa",
    "ရန်ကုန်မြို့ ရွှေတိဂုံဘုရား",
    "ប្រាសាទអង្គរវត្ត",
]

ENTRIES = [
    "猫", "写真", "東京", "東京タワー", "夕焼け", "Tシャツ", "メンズ", "白", "iPhone",
    "iPhone 15", "ケース", "人気", "京都", "紅葉", "清水寺", "人々", "渋谷", "交差点",
    "北京", "故宫", "雪景", "小狗", "草地", "上海", "外滩", "夜景", "城市之光", "连衣裙",
    "แมว", "โซฟา", "กรุงเทพ", "ตลาดน้ำ", "C++", "Python", "プログラミング", "cat", "sofa",
    "A cat", "ရန်ကုန်", "អង្គរវត្ត", "年", "2023", "100%", "「人気」", "", "渡る", "วัด",
]  # fmt: skip


def test_pad_entry_follows_the_end_characters() -> None:
    assert pad_entry("猫", "script") == "猫"
    assert pad_entry("cat", "script") == " cat "
    assert pad_entry("Tシャツ", "script") == " Tシャツ"
    assert pad_entry("C++", "script") == " C++"
    assert pad_entry("「人気」", "script") == "「人気」"
    assert pad_entry("", "script") == "  "
    assert pad_entry("猫", "both") == " 猫 "


def test_unspaced_characters() -> None:
    for char in "猫のカ々ไລကកབ，。「」～—,.!%+㐀":
        assert is_unspaced_char(char), char
    for char in "aZ9éж한 ":
        assert not is_unspaced_char(char), char


def test_hand_checked_cjk_thai_matches() -> None:
    matcher = Matcher(ENTRIES, use_cache=False, padding="script")
    names = lambda text: {ENTRIES[i] for i in matcher.match(text)}  # noqa: E731
    assert names("黒い猫がソファの上で寝ている写真") == {"猫", "写真"}
    # An entry starting with a Latin letter or digit needs a space before it, even after a CJK
    # bracket or ideograph: "Tシャツ" after "】" and "100%" after "綿" do not match (the rule
    # as the reference states it); "白" needs no space.
    assert names("【送料無料】Tシャツ メンズ 半袖 白 綿100%") == {"メンズ", "白"}
    assert names("Tシャツ 白 100%") == {"Tシャツ", "白", "100%"}
    assert names("白いTシャツ") == {"白"}
    # Latin ends keep their spaces: "iPhone" and "iPhone 15" match, "iPhoneケース" would not.
    assert names("iPhone 15 Pro ケース 手帳型「人気」") == {
        "iPhone", "iPhone 15", "ケース", "人気", "「人気」",
    }  # fmt: skip
    assert names("iPhoneケース") == {"ケース"}
    assert names("แมวสีดำนอนบนโซฟา") == {"แมว", "โซฟา"}
    assert names("A cat on a sofa") == {"A cat", "cat", "sofa"}
    # The v1 rule finds none of the CJK words inside unspaced text.
    assert Matcher(ENTRIES, use_cache=False).match("黒い猫がソファの上で寝ている写真") == []


@pytest.mark.parametrize("text", ALT_TEXTS)
def test_matcher_equals_naive_rule_on_alt_texts(text: str) -> None:
    matcher = Matcher(ENTRIES, use_cache=False, padding="script")
    assert matcher.match(text) == naive_match_script(text, ENTRIES)
    assert Matcher(ENTRIES, use_cache=False).match(text) == naive_match(text, ENTRIES)


def test_alt_texts_match_something_in_every_script() -> None:
    matcher = Matcher(ENTRIES, use_cache=False, padding="script")
    assert sum(bool(matcher.match(t)) for t in ALT_TEXTS) == len(ALT_TEXTS)


_ALPHABET = st.sampled_from(list("ab A日本猫のカ々。、「」,.!+ไทก\t\n"))


@settings(max_examples=400, deadline=None)
@given(
    entries=st.lists(st.text(_ALPHABET, max_size=5), min_size=1, max_size=25),
    texts=st.lists(st.text(_ALPHABET, max_size=30), min_size=1, max_size=10),
)
def test_matcher_equals_naive_rule_on_mixed_scripts(entries: list[str], texts: list[str]) -> None:
    matcher = Matcher(entries, use_cache=False, padding="script")
    for text in texts:
        assert matcher.match(text) == naive_match_script(text, entries)


def test_script_automaton_is_cached_apart(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("METACLIP_SQL_CACHE", str(tmp_path))
    entries = ["猫", "cat"]
    load_automaton(entries)
    load_automaton(entries, padding="script")
    digest = entries_digest(entries)[:32]
    assert (tmp_path / f"automaton-{CACHE_FORMAT}-{digest}.pkl").exists()
    assert (tmp_path / f"automaton-{CACHE_FORMAT}-script-{digest}.pkl").exists()
    assert Matcher(entries, padding="script").match("黒猫とcat") == [0]
    assert Matcher(entries).match("黒猫とcat") == []


def test_unknown_padding_is_refused() -> None:
    with pytest.raises(ValueError, match="padding"):
        Matcher(["a"], use_cache=False, padding="none")
