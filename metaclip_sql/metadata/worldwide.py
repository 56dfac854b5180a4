"""Worldwide metadata in one call: one list per language, and the lang map `extract` reads.

`build_worldwide(out_dir, ...)` writes `<code>.json` (with its `.sources.json` sidecar) for
every language its sources cover, and `lang_map.json`:

- wordfreq (default on): its 42 languages, `large` lists where wordfreq has them (21), `small`
  otherwise, with the variants of `variants.py` (capitalised forms, Greek final sigma,
  Traditional Chinese, Serbian Cyrillic, Romanian cedillas);
- WordNet (`wordnet=DIR`): English only, before wordfreq, as in the bundled list;
- Wikipedia (`wikipedia=DIR`): one subfolder per language, named by its lid.176/Wikipedia code
  (`de/`, `no/`, `th/`; wordfreq's `nb`, `fil` are accepted too), holding any of
  `unigrams*` (word<TAB>count), `bigrams*` (word1<TAB>word2<TAB>count) and pageview dumps
  (files named `pageviews*` or `titles*`, or a `pageviews/` or `titles/` folder), read as
  `metadata build` reads them. A subfolder for a language wordfreq lacks makes a list too.

Each list follows MetaCLIP's source order (numbers, WordNet, wordfreq, unigrams, bigrams,
titles), deduplicated, at most `size` entries (`build.merge`). Lists are named by lid.176 label,
so the map only folds the labels that have no list of their own (`languages.FOLDED_LABELS`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from metaclip_sql.metadata import sources as metadata_sources
from metaclip_sql.metadata.build import (
    BuildResult,
    Source,
    SourceCount,
    SourceError,
    merge,
    reference_sources,
    summary_lines,
    write_metadata,
)
from metaclip_sql.metadata.lang import (
    LANG_MAP_NAME,
    list_language,
    load_lang_map,
    metadata_files,
)
from metaclip_sql.metadata.languages import (
    EXTRA_UNSPACED,
    FOLDED_LABELS,
    WORDFREQ_LANGUAGES,
    lid_labels_for,
    list_code,
)
from metaclip_sql.metadata.variants import (
    CASE_VARIANTS,
    SCRIPT_VARIANTS,
    traditional_available,
    wordfreq_entries,
)

DEFAULT_SIZE = 500_000
MAP_FORMAT = (
    "metaclip-sql lang map 1: lid.176 label -> metadata language (a code with no entry maps "
    "to itself); 'unspaced' lists the metadata languages whose entries get MetaCLIP 2's "
    "script-aware padding. Written by `metadata build --worldwide` for the lists beside it."
)


@dataclass(frozen=True)
class WikipediaDumps:
    """One language's Wikipedia counts and pageview dumps (any may be missing)."""

    unigrams: Path | None = None
    bigrams: Path | None = None
    titles: tuple[Path, ...] = ()


@dataclass(frozen=True)
class BuiltList:
    """One list written: its file, size, and what each source added (the sidecar's counts)."""

    code: str
    path: Path
    entries: int
    sources: tuple[SourceCount, ...]
    entries_sha256: str


@dataclass
class WorldwideBuild:
    """What `build_worldwide` wrote: per language its list, and the lang map."""

    out_dir: Path
    lists: dict[str, BuiltList]
    lang_map: dict[str, Any]
    seconds: float
    labels: dict[str, list[str]] = field(default_factory=dict)  # list -> lid.176 labels

    def summary_lines(self, verbose: bool = False) -> list[str]:
        """One line per language (its sources with `verbose`), then the totals."""
        lines = [f"{'lang':<5} {'entries':>9}  lid.176 labels  sources"]
        for code, built in sorted(self.lists.items()):
            names = "+".join(s.name for s in built.sources if s.added)
            labels = ",".join(self.labels.get(code, []))
            lines.append(f"{code:<5} {built.entries:>9,}  {labels:<14}  {names}")
            if verbose:
                result = BuildResult([], list(built.sources), 0, code)
                lines += ["    " + line for line in summary_lines(result, built.path)[1:]]
        total = sum(b.entries for b in self.lists.values())
        lines.append(
            f"{len(self.lists)} lists, {total:,} entries -> {self.out_dir}/ "
            f"(+ {LANG_MAP_NAME}: {len(self.lang_map['map'])} labels folded); "
            f"{self.seconds:.1f} s"
        )
        return lines


def wikipedia_languages(directory: str | Path) -> dict[str, WikipediaDumps]:
    """List code -> the dump files in `directory/<code>/`, for every subfolder holding some."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"--wikipedia {directory}: not a folder")
    found: dict[str, WikipediaDumps] = {}
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        if sub.name.startswith("."):
            continue
        dumps = _dumps_in(sub)
        if dumps.unigrams or dumps.bigrams or dumps.titles:
            code = list_code(sub.name)
            if code in found:
                raise SourceError(f"--wikipedia: two folders for {code!r} in {directory}")
            found[code] = dumps
    if not found:
        raise SourceError(
            f"--wikipedia {directory}: no <lang>/ subfolder with unigrams*, bigrams* or "
            "pageviews* files"
        )
    return found


def _dumps_in(folder: Path) -> WikipediaDumps:
    unigrams: list[Path] = []
    bigrams: list[Path] = []
    titles: list[Path] = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        if path.is_dir() and name in ("titles", "pageviews"):
            titles += metadata_sources.expand_paths([path])
        elif not path.is_file():
            continue
        elif name.startswith("unigrams"):
            unigrams.append(path)
        elif name.startswith("bigrams"):
            bigrams.append(path)
        elif name.startswith(("pageviews", "titles")):
            titles.append(path)
    for kind, files in (("unigrams", unigrams), ("bigrams", bigrams)):
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            raise SourceError(f"--wikipedia {folder}: more than one {kind} file ({names})")
    if bigrams and not unigrams:
        raise SourceError(f"--wikipedia {folder}: bigrams need a unigrams file (PMI)")
    return WikipediaDumps(
        unigrams[0] if unigrams else None, bigrams[0] if bigrams else None, tuple(titles)
    )


def language_sources(
    code: str,
    *,
    wordfreq: bool = True,
    wordnet: str | Path | None = None,
    wiki: WikipediaDumps | None = None,
    numbers: bool = True,
    case_variants: bool = True,
    script_variants: bool = True,
    own_script: bool = False,
    min_count: int = 100,
    min_pmi: float = 30.0,
    min_views: int = 70,
) -> list[Source]:
    """The sources of list `code`, in MetaCLIP's order (WordNet for English only)."""
    wiki = wiki or WikipediaDumps()
    out = reference_sources(
        numbers=numbers,
        wordnet=wordnet if code == "en" else None,
        unigrams=wiki.unigrams,
        bigrams=wiki.bigrams,
        titles=wiki.titles,
        lang=code,
        min_count=min_count,
        min_pmi=min_pmi,
        min_views=min_views,
    )
    language = WORDFREQ_LANGUAGES.get(code)
    if wordfreq and language is not None:
        wordlist, version = metadata_sources.wordfreq_wordlist(language.wordfreq)
        added = [CASE_VARIANTS] if case_variants else []
        script = SCRIPT_VARIANTS.get(code)
        if script_variants and script and (script != "traditional" or traditional_available()):
            added.append(script)
        params = {
            "lang": language.wordfreq,
            "wordlist": wordlist,
            "wordfreq": version,
            "variants": added,
            "own_script": sorted(language.scripts) if own_script else None,
        }
        candidates = partial(
            wordfreq_entries,
            code,
            language.wordfreq,
            case_variants,
            script_variants,
            language.scripts if own_script else None,
        )
        first_counted = sum(s.name in ("numbers", "wordnet") for s in out)
        out.insert(first_counted, Source("wordfreq", params, candidates))
    return out


def covered_languages(
    wordfreq: bool, wordnet: str | Path | None, wiki: dict[str, WikipediaDumps]
) -> list[str]:
    """Codes of the lists the sources can make (English also from WordNet alone)."""
    codes = set(wiki)
    if wordfreq:
        codes |= set(WORDFREQ_LANGUAGES)
    if wordnet is not None:
        codes.add("en")
    return sorted(codes)


def build_worldwide(
    out_dir: str | Path,
    *,
    wordfreq: bool = True,
    wordnet: str | Path | None = None,
    wikipedia: str | Path | None = None,
    langs: Iterable[str] | None = None,
    size: int = DEFAULT_SIZE,
    numbers: bool = True,
    case_variants: bool = True,
    script_variants: bool = True,
    own_script: bool = False,
    min_count: int = 100,
    min_pmi: float = 30.0,
    min_views: int = 70,
) -> WorldwideBuild:
    """Write `<code>.json` for every language the sources cover (only `langs` when given) and
    the `lang_map.json` for all lists in `out_dir`; raises SourceError before writing anything
    when an option or a source is wrong."""
    started = time.perf_counter()
    if size < 1:
        raise SourceError(f"--size must be at least 1, not {size}")
    wiki = wikipedia_languages(wikipedia) if wikipedia is not None else {}
    codes = covered_languages(wordfreq, wordnet, wiki)
    if not codes:
        raise SourceError("no sources: give --wordfreq, --wordnet or --wikipedia")
    if langs is not None:
        items = langs.split(",") if isinstance(langs, str) else langs
        wanted = sorted({list_code(c.strip()) for c in items if c.strip()})
        missing = [c for c in wanted if c not in codes]
        if missing:
            folded = [
                f"{c} texts use the {FOLDED_LABELS[c]} list" for c in missing if c in FOLDED_LABELS
            ]
            hint = f"; {', '.join(folded)}" if folded else ""
            raise SourceError(
                f"no source covers {', '.join(missing)} (covered: {', '.join(codes)}){hint}"
            )
        codes = wanted
    out_dir = Path(out_dir)
    _check_existing(out_dir, codes)
    options = {
        "wordfreq": wordfreq,
        "wordnet": wordnet,
        "numbers": numbers,
        "case_variants": case_variants,
        "script_variants": script_variants,
        "own_script": own_script,
        "min_count": min_count,
        "min_pmi": min_pmi,
        "min_views": min_views,
    }
    plan = {code: language_sources(code, wiki=wiki.get(code), **options) for code in codes}
    results: dict[str, BuiltList] = {}
    for code, sources in plan.items():
        result = merge(sources, size=size, lang=code)
        path, _ = write_metadata(result, out_dir / f"{code}.json")
        digest = result.sidecar()["entries_sha256"]
        results[code] = BuiltList(code, path, len(result.entries), tuple(result.sources), digest)
    lang_map = write_lang_map(out_dir)
    mapped = lang_map["map"]
    labels = {code: lid_labels_for(code, mapped) for code in results}
    seconds = time.perf_counter() - started
    return WorldwideBuild(out_dir, results, lang_map, seconds, labels)


def _check_existing(out_dir: Path, codes: Sequence[str]) -> None:
    """A list already in `out_dir` under another name (`de.json.gz`) would make two."""
    if not out_dir.is_dir():
        return
    wanted = set(codes)
    clashes = [
        str(path)
        for path in sorted(out_dir.iterdir())
        if path.is_file()
        and list_language(path) in wanted
        and path.name != f"{list_language(path)}.json"
    ]
    if clashes:
        raise SourceError(
            f"{out_dir} already holds {', '.join(clashes)}: remove it or choose another --out "
            "(a language must have one list)"
        )


def lang_map_for(codes: Iterable[str]) -> dict[str, Any]:
    """The lang map for a folder with lists `codes`: a folded label only where it has no list
    of its own and its target has one; `unspaced` is the bundled map's plus Cantonese and Wu."""
    present = set(codes)
    mapped = {
        label: target
        for label, target in sorted(FOLDED_LABELS.items())
        if target in present and label not in present
    }
    unspaced = sorted(load_lang_map().unspaced | set(EXTRA_UNSPACED))
    return {"about": MAP_FORMAT, "map": mapped, "unspaced": unspaced}


def write_lang_map(out_dir: str | Path) -> dict[str, Any]:
    """Write `lang_map.json` for the lists now in `out_dir`; returns what was written."""
    out_dir = Path(out_dir)
    record = lang_map_for(metadata_files(out_dir))
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    path = out_dir / LANG_MAP_NAME
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return record


def check_worldwide_options(
    *, lang_given: bool, unigrams: object, bigrams: object, titles: Sequence[object]
) -> None:
    """`metadata build --worldwide` reads per-language dumps from `--wikipedia DIR/<lang>/`;
    the single-list options for one language's dumps (and `--lang`) do not apply."""
    given = [
        name
        for name, value in (("--unigrams", unigrams), ("--bigrams", bigrams), ("--titles", titles))
        if value
    ]
    if given:
        raise SourceError(
            f"{', '.join(given)} build one list; with --worldwide, per-language dumps go in "
            "--wikipedia DIR/<lang>/"
        )
    if lang_given:
        raise SourceError("--worldwide builds every language the sources cover: use --langs")
