"""The languages worldwide lists are built for: list codes, lid.176 labels, scripts.

A list is named by the lid.176 label of its language (which is also its Wikipedia code):
`de.json`, `no.json`, `tl.json`. wordfreq names two of its languages differently (`nb` for
Norwegian Bokmål, lid.176 `no`; `fil` for Filipino, lid.176 `tl`) and one by a code lid.176
also uses for a macro-language (`sh`, Serbo-Croatian, which lid.176 splits into sh, sr, hr, bs).
`FOLDED_LABELS` sends the lid.176 labels that have no list of their own to the list written in
the same language or standard (docs: /work/notes/worldwide-recipe.md, "The language map").

Scripts are told from Unicode character names (`char_script`), which needs no extra package;
`script_share` is what `metadata info` and the tests report for a list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

#: Every label of fastText's lid.176 model (the one `extract` runs), sorted.
LID176_LABELS = tuple(
    "af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce "
    "ceb ckb co cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn "
    "gom gu gv he hi hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku "
    "kv kw ky la lb lez li lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn "
    "nah nap nds ne new nl nn no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc "
    "scn sco sd sh si sk sl so sq sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep "
    "vi vls vo wa war wuu xal xmf yi yo yue zh".split()
)

#: Codes that name a list's language differently (wordfreq's, Wikipedia's) -> the list code.
CODE_ALIASES = {"nb": "no", "fil": "tl", "zh-yue": "yue", "zh_yue": "yue"}

#: lid.176 label -> list it is matched against when it has no list of its own. Only labels of
#: the same language under another code, or written in the same standard: Cantonese and Wu in
#: Chinese characters, Egyptian Arabic, Serbian/Croatian/Bosnian (wordfreq's one `sh` list),
#: Nynorsk (the other written standard of Norwegian; wordfreq has Bokmål only).
FOLDED_LABELS = {
    "arz": "ar",
    "bs": "sh",
    "hr": "sh",
    "nn": "no",
    "sr": "sh",
    "wuu": "zh",
    "yue": "zh",
}

#: Lists matched without spaces (MetaCLIP 2's no-space languages), beyond the bundled map's.
EXTRA_UNSPACED = ("wuu", "yue")


@dataclass(frozen=True)
class ListLanguage:
    """A language wordfreq has a list for: its list code and the scripts its entries are in."""

    code: str  # the list's name: a lid.176 label
    wordfreq: str  # wordfreq's code
    scripts: frozenset[str]


def _lang(code: str, scripts: str = "Latin", wordfreq: str | None = None) -> ListLanguage:
    return ListLanguage(code, wordfreq or code, frozenset(scripts.split()))


#: wordfreq's 42 languages (wordfreq 3.1), keyed by list code.
WORDFREQ_LANGUAGES: dict[str, ListLanguage] = {
    lang.code: lang
    for lang in (
        _lang("ar", "Arabic"),
        _lang("bg", "Cyrillic"),
        _lang("bn", "Bengali"),
        _lang("ca"),
        _lang("cs"),
        _lang("da"),
        _lang("de"),
        _lang("el", "Greek"),
        _lang("en"),
        _lang("es"),
        _lang("fa", "Arabic"),
        _lang("fi"),
        _lang("tl", wordfreq="fil"),
        _lang("fr"),
        _lang("he", "Hebrew"),
        _lang("hi", "Devanagari"),
        _lang("hu"),
        _lang("id"),
        _lang("is"),
        _lang("it"),
        _lang("ja", "Han Hiragana Katakana"),
        _lang("ko", "Hangul"),
        _lang("lt"),
        _lang("lv"),
        _lang("mk", "Cyrillic"),
        _lang("ms"),
        _lang("no", wordfreq="nb"),
        _lang("nl"),
        _lang("pl"),
        _lang("pt"),
        _lang("ro"),
        _lang("ru", "Cyrillic"),
        _lang("sh", "Latin Cyrillic"),  # Latin from wordfreq, Cyrillic added (variants.py)
        _lang("sk"),
        _lang("sl"),
        _lang("sv"),
        _lang("ta", "Tamil"),
        _lang("tr"),
        _lang("uk", "Cyrillic"),
        _lang("ur", "Arabic"),
        _lang("vi"),
        _lang("zh", "Han"),
    )
}


def list_code(name: str) -> str:
    """The list code for a language code as wordfreq or Wikipedia spell it (`nb` -> `no`)."""
    return CODE_ALIASES.get(name, name)


def lid_labels_for(target: str, mapped: dict[str, str]) -> list[str]:
    """The lid.176 labels whose texts are matched against list `target` under `mapped`."""
    return [label for label in LID176_LABELS if mapped.get(label, label) == target]


# --- scripts -------------------------------------------------------------------------------

_NAME_SCRIPTS = {"CJK": "Han", "KANGXI": "Han", "IDEOGRAPHIC": "Han"}


@lru_cache(maxsize=65536)
def char_script(char: str) -> str | None:
    """The script of a letter ('Latin', 'Cyrillic', 'Han', 'Hiragana' ...); None for others.

    Read from the character's Unicode name, whose first word names the script for letters of
    every script lists are built in (`LATIN SMALL LETTER A`, `CJK UNIFIED IDEOGRAPH-4E00`).
    Digits, punctuation, symbols and combining marks have no script here.
    """
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return "Han" if 0x20000 <= ord(char) <= 0x3FFFF else None
    words = name.split()
    if words[0] in ("FULLWIDTH", "HALFWIDTH") and len(words) > 1:
        words = words[1:]
    first = words[0].split("-")[0]  # KATAKANA-HIRAGANA PROLONGED SOUND MARK: Katakana
    return _NAME_SCRIPTS.get(first, first.capitalize())


def entry_scripts(entry: str) -> frozenset[str]:
    """The scripts of an entry's letters (empty for numbers and punctuation)."""
    return frozenset(s for s in map(char_script, entry) if s is not None)


def script_share(entries: Iterable[str], scripts: Iterable[str]) -> tuple[float, int]:
    """(share, n): of the `n` entries that hold letters, the share whose letters are all in
    `scripts`. 1.0 when no entry holds a letter."""
    allowed = frozenset(scripts)
    with_letters = inside = 0
    for entry in entries:
        found = entry_scripts(entry)
        if found:
            with_letters += 1
            inside += found <= allowed
    return (inside / with_letters if with_letters else 1.0), with_letters


def main_script(entries: Iterable[str]) -> str | None:
    """The script most entries' letters are in (for lists of languages not in the table)."""
    counts: dict[str, int] = {}
    for entry in entries:
        for script in entry_scripts(entry):
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: (counts[s], s)) if counts else None
