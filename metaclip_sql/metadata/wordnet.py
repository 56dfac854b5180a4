"""Read synset head names straight from WordNet 3.0 database files.

MetaCLIP's first real source is the head name (first lemma) of every WordNet synset. Reading
the `data.*` files directly needs neither NLTK nor a download: Debian's `wordnet-base` puts
them in /usr/share/wordnet, Princeton's tarball in `dict/`, and all share the wndb(5WN) line
format `offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ...`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metaclip_sql.errors import MetaclipError

DATA_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


class WordNetError(MetaclipError):
    """A folder that does not hold the WordNet database files."""


def data_files(directory: str | Path) -> list[Path]:
    """The four `data.*` files under `directory` (or its `dict/`), in noun, verb, adj, adv order."""
    directory = Path(directory)
    for folder in (directory, directory / "dict"):
        paths = [folder / name for name in DATA_FILES]
        if all(p.is_file() for p in paths):
            return paths
    names = ", ".join(DATA_FILES)
    raise WordNetError(f"{directory} does not hold the WordNet database files ({names})")


def head_name(line: str) -> str:
    """The synset's first lemma as text: adjective marker dropped, underscores to spaces."""
    word = line.split(" ", 5)[4]
    return _ADJ_MARKER.sub("", word).replace("_", " ")


def head_names(directory: str | Path) -> Iterator[str]:
    """Head names of every synset, file by file, in file (offset) order; repeats included."""
    for path in data_files(directory):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if not line.startswith("  "):  # the license header lines start with two spaces
                    yield head_name(line)
