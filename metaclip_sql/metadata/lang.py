"""Per-language metadata for worldwide curation (MetaCLIP 2): one list and one automaton per
language, and the map from lid.176 labels to those languages.

`--metadata DIR` names a folder of `<lang>.json` lists (also `.json.gz`, `.txt`, `.txt.gz`).
A text is routed by its lid.176 label through the lang map (`data/lang_map.json` unless
`--lang-map FILE`): a label with no entry maps to itself. Lists of the languages the map calls
`unspaced` use MetaCLIP 2's script-aware padding (`matching.pad_entry`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from metaclip_sql.metadata.load import MetadataError, load_entries
from metaclip_sql.metadata.matching import Matcher

BUNDLED_LANG_MAP = Path(__file__).resolve().parents[1] / "data" / "lang_map.json"
#: The lang map `metadata build --worldwide` writes beside its lists (not a list itself).
LANG_MAP_NAME = "lang_map.json"
LIST_SUFFIXES = (".json", ".json.gz", ".txt", ".txt.gz")


@dataclass(frozen=True)
class LangMap:
    """lid.176 label -> metadata language, and the languages written without spaces."""

    aliases: dict[str, str]
    unspaced: frozenset[str]

    def metadata_lang(self, lid_code: str) -> str:
        return self.aliases.get(lid_code, lid_code)

    def padding(self, lang: str) -> str:
        return "script" if lang in self.unspaced else "both"


def load_lang_map(path: str | Path | None = None) -> LangMap:
    """The lang map at `path` (JSON with `map` and `unspaced`), else the bundled default."""
    path = Path(path) if path is not None else BUNDLED_LANG_MAP
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MetadataError(f"cannot read lang map {path}: {exc}") from exc
    aliases = raw.get("map", {}) if isinstance(raw, dict) else None
    unspaced = raw.get("unspaced", []) if isinstance(raw, dict) else None
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise MetadataError(f"lang map {path}: 'map' must be an object of code -> code")
    if not isinstance(unspaced, list) or not all(isinstance(c, str) for c in unspaced):
        raise MetadataError(f"lang map {path}: 'unspaced' must be a list of codes")
    return LangMap(dict(aliases), frozenset(unspaced))


def folder_lang_map(directory: str | Path) -> Path | None:
    """The `lang_map.json` a worldwide build wrote into `directory`, None when there is none."""
    path = Path(directory) / LANG_MAP_NAME
    return path if path.is_file() else None


def load_folder_lang_map(directory: str | Path, path: str | Path | None = None) -> LangMap:
    """The lang map for the lists in `directory`: `path` when given, else the folder's own
    `lang_map.json`, else the bundled one."""
    return load_lang_map(path if path is not None else folder_lang_map(directory))


def list_language(path: Path) -> str | None:
    """`de.json` -> 'de'; None for files that are not metadata lists (sidecars, the folder's
    `lang_map.json`, others)."""
    name = path.name
    if name.startswith(".") or name.endswith(".sources.json") or name == LANG_MAP_NAME:
        return None
    for suffix in LIST_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def metadata_files(directory: str | Path) -> dict[str, Path]:
    """Language -> list file in `directory`; two files for one language is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MetadataError(f"metadata directory {directory} does not exist")
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        lang = list_language(path) if path.is_file() else None
        if lang is None:
            continue
        if lang in found:
            raise MetadataError(f"two metadata lists for {lang!r}: {found[lang]} and {path}")
        found[lang] = path
    if not found:
        raise MetadataError(f"no <lang>.json metadata lists in {directory}")
    return found


def load_lang_lists(
    directory: str | Path, langs: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Entries per language (only `langs` when given), in id order."""
    wanted = set(langs) if langs is not None else None
    return {
        lang: load_entries(path)
        for lang, path in metadata_files(directory).items()
        if wanted is None or lang in wanted
    }


class LanguageMatchers:
    """One Matcher per metadata language; `route(lid_code)` gives (language, matcher or None).

    Built once in the parent process (children share it copy-on-write), like `Matcher`.
    """

    def __init__(
        self,
        directory: str | Path,
        lang_map: LangMap | None = None,
        langs: frozenset[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        self.lang_map = lang_map or load_folder_lang_map(directory)
        lists = load_lang_lists(directory, langs)
        self.matchers = {
            lang: Matcher(entries, use_cache, self.lang_map.padding(lang))
            for lang, entries in lists.items()
        }
        self._routes: dict[str, tuple[str, Matcher | None]] = {}

    def route(self, lid_code: str) -> tuple[str, Matcher | None]:
        """The metadata language of a lid.176 label and its matcher (None: no list for it)."""
        found = self._routes.get(lid_code)
        if found is None:
            lang = self.lang_map.metadata_lang(lid_code)
            found = self._routes[lid_code] = (lang, self.matchers.get(lang))
        return found

    @property
    def sizes(self) -> dict[str, int]:
        return {lang: m.size for lang, m in self.matchers.items()}
