"""wordfreq's words as list entries: undo what its normalisation lost, add the forms texts use.

wordfreq stores words casefolded, NFC in Latin, Greek and Cyrillic and NFKC in other scripts,
Arabic and Hebrew without vowel marks, Romanian with comma-below `ș ț`; matching is
case-sensitive and exact (docs/algorithm.md, section 3). So, per word, in frequency order:

- Greek: casefolding turned the final `ς` into `σ` (`τησ`); it is put back (`της`).
- cased scripts (Latin, Cyrillic, Greek): the capitalised form follows the word (`katze`,
  `Katze`): sentence-initial words and German nouns are written that way. Turkish and Azerbaijani
  capitalise `i` as `İ` and `ı` as `I`; Dutch `ij` as `IJ`. Words starting with `ß` get none.
- Chinese: wordfreq's list is in Simplified characters; where every character has exactly one
  Traditional form in wordfreq's own mapping (`_chinese_mapping.msgpack.gz`, which it uses to
  look Traditional text up), the Traditional spelling follows (`飞机`, `飛機`). Characters with
  several Traditional forms (`发`: `發`/`髮`) leave the word without one.
- Serbo-Croatian (`sh`): wordfreq transliterates Serbian Cyrillic to Latin; the Cyrillic
  spelling (Gaj's Latin alphabet letter by letter, `lj nj dž` as `љ њ џ`) follows each Latin
  form of words written only in that alphabet (`Srbija` -> `Србија`).
- Romanian: many pages still write `ş ţ` with a cedilla (the legacy encodings had no comma-below
  letters); the cedilla spelling follows each form that has `ș` or `ț` (`și`, `şi`).

Each variant is a separate entry with its own id; duplicates are dropped by the merge.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterator
from functools import cache

from metaclip_sql.metadata.languages import entry_scripts
from metaclip_sql.metadata.sources import wordfreq_words

CASE_VARIANTS = "capitalised"
SCRIPT_VARIANTS = {"zh": "traditional", "sh": "cyrillic", "ro": "cedilla"}

_FINAL_SIGMA = re.compile(r"(?<=[^\W\d_])σ(?![^\W\d_'’])")
_DOTTED_I = ("tr", "az")
_CEDILLA = str.maketrans("șțȘȚ", "şţŞŢ")


def wordfreq_entries(
    code: str,
    wordfreq_code: str,
    case: bool = True,
    script: bool = True,
    own_scripts: frozenset[str] | None = None,
) -> Iterator[str]:
    """Entries from wordfreq's list `wordfreq_code` for list `code`: each word, then its
    variants (`variants`). With `own_scripts`, words with letters but none in those scripts
    (`the` in the Japanese list) are left out."""
    for word in wordfreq_words(wordfreq_code):
        word = clean(word, code)
        if own_scripts is not None:
            found = entry_scripts(word)
            if found and not found & own_scripts:
                continue
        yield from variants(word, code, case=case, script=script)


def clean(word: str, code: str) -> str:
    """The word as texts write it: NFC, and Greek's final sigma restored."""
    word = unicodedata.normalize("NFC", word)
    if code == "el":
        word = _FINAL_SIGMA.sub("ς", word)
    return word


def variants(word: str, code: str, case: bool = True, script: bool = True) -> list[str]:
    """`word` first, then the forms added for list `code` (repeats are left to the merge)."""
    forms = [word]
    if case:
        upper = capitalised(word, code)
        if upper != word:
            forms.append(upper)
    if script and code == "zh":
        traditional = traditional_chinese(word)
        if traditional is not None and traditional != word:
            forms.append(traditional)
    elif script and code == "sh":
        forms += [c for c in map(serbian_cyrillic, list(forms)) if c is not None]
    elif script and code == "ro":
        forms += [c for c in (f.translate(_CEDILLA) for f in list(forms)) if c not in forms]
    return forms


def capitalised(word: str, code: str = "") -> str:
    """`word` with its first letter upper-cased as language `code` does it."""
    if not word:
        return word
    first = word[0]
    if code in _DOTTED_I and first in "iı":
        return ("İ" if first == "i" else "I") + word[1:]
    if code == "nl" and word.startswith("ij"):
        return "IJ" + word[2:]
    if first == "ß":
        return word
    upper = first.upper()
    return word if len(upper) != 1 else upper + word[1:]


# --- Traditional Chinese -------------------------------------------------------------------


@cache
def _traditional_table() -> tuple[dict[str, str], frozenset[str]]:
    """Simplified -> Traditional for characters with one Traditional form, and the
    Simplified characters with several (from wordfreq's mapping; empty when unreadable)."""
    try:
        import msgpack
        from wordfreq.util import data_path

        with gzip.open(data_path("_chinese_mapping.msgpack.gz")) as f:
            mapping = msgpack.load(f, raw=False, strict_map_key=False)
    except (ImportError, OSError, ValueError):
        return {}, frozenset()
    sources: dict[str, set[str]] = {}
    for trad, simp in mapping.items():
        trad = chr(trad) if isinstance(trad, int) else trad
        simp = chr(simp) if isinstance(simp, int) else simp
        if trad != simp:
            sources.setdefault(simp, set()).add(trad)
    single = {simp: next(iter(t)) for simp, t in sources.items() if len(t) == 1}
    return single, frozenset(simp for simp, t in sources.items() if len(t) > 1)


def traditional_available() -> bool:
    """Whether wordfreq's Simplified/Traditional mapping could be read."""
    return bool(_traditional_table()[0])


def traditional_chinese(word: str) -> str | None:
    """`word` in Traditional characters; None when a character has several Traditional forms
    (or the mapping is missing)."""
    table, ambiguous = _traditional_table()
    if not table or any(c in ambiguous for c in word):
        return None
    return "".join(table.get(c, c) for c in word)


# --- Serbian Cyrillic ----------------------------------------------------------------------

_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ", "Lj": "Љ", "LJ": "Љ", "Nj": "Њ", "NJ": "Њ"}
_DIGRAPHS |= {"Dž": "Џ", "DŽ": "Џ"}
_LETTERS = dict(
    zip(
        "abcčćdđefghijklmnoprsštuvzž",
        "абцчћдђефгхијклмнопрсштувзж",
        strict=True,
    )
)
_LETTERS |= {k.upper(): v.upper() for k, v in _LETTERS.items()}
_GAJ = re.compile("|".join(sorted(_DIGRAPHS, key=len, reverse=True)) + "|.", re.DOTALL)


def serbian_cyrillic(word: str) -> str | None:
    """`word` in Serbian Cyrillic; None unless every letter is in Gaj's Latin alphabet."""
    out = []
    has_letter = False
    for piece in _GAJ.findall(word):
        cyrillic = _DIGRAPHS.get(piece) or _LETTERS.get(piece)
        if cyrillic is not None:
            out.append(cyrillic)
            has_letter = True
        elif piece.isalpha():
            return None  # q, w, x, y, or another script: not a Serbian word
        else:
            out.append(piece)
    return "".join(out) if has_letter else None
