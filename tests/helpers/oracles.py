"""Slow, obviously-right statements of extract's rules, the oracles of its differential tests."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def slow_resolve(base: str | None, src: str) -> str | None:
    """docs/algorithm.md: urljoin(base, src); keep http(s) only; None when it cannot be resolved."""
    try:
        url = urljoin(base, src.strip()) if base else src.strip()
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if src.strip() and scheme in ("http", "https") else None


def slow_kind(base: str | None, src: str) -> str:
    """What the page's counts record for `src`: kept, non_http or unresolvable."""
    if not src.strip():
        return "unresolvable"
    try:
        url = urljoin(base, src.strip()) if base else src.strip()
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return "unresolvable"
    if scheme in ("http", "https"):
        return "kept"
    return "non_http" if scheme else "unresolvable"
