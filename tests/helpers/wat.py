"""WAT records as Common Crawl writes them: one gzip member per `metadata` record of JSON."""

from __future__ import annotations

import gzip
import json


def wat_member(page_url: str, body: bytes) -> bytes:
    """One gzip member holding a WAT `metadata` record whose JSON is `body`."""
    head = (
        f"WARC/1.0\r\nWARC-Type: metadata\r\nWARC-Target-URI: {page_url}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + body + b"\r\n\r\n", mtime=0)


def wat_response(page_url: str, links: list[dict]) -> bytes:
    """The WAT record (one gzip member) of a response page whose HTML had `links`."""
    doc = {
        "Envelope": {
            "WARC-Header-Metadata": {"WARC-Type": "response", "WARC-Target-URI": page_url},
            "Payload-Metadata": {
                "HTTP-Response-Metadata": {"HTML-Metadata": {"Head": {}, "Links": links}}
            },
        }
    }
    return wat_member(page_url, json.dumps(doc).encode())
