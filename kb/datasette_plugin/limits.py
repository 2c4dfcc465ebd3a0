"""Bounds on everything a visitor can send, checked before any work is done.

The site is public-facing in spirit even when bound to 127.0.0.1: a page or a
SQL call must never be able to ask for unbounded work or echo unbounded input.
"""

from __future__ import annotations

# search.retrieve cuts queries longer than its MAX_QUERY_CHARS itself; the
# plugin refuses them instead (with the same limit, imported from there), so
# the web never silently answers a different question than the one asked.
DEFAULT_K = 10
# The Python API allows search.retrieve.MAX_K; a page or a SQL call gets at
# most this many, which is more than a page can usefully show.
MAX_PAGE_K = 100
# Ids, keys, filter values, modes: nothing legitimate is longer.
MAX_PARAM_CHARS = 200
# Repeated parameters (?topic=a&topic=b...).
MAX_VALUES_PER_PARAM = 20
MAX_QUERY_STRING_CHARS = 4096
# Site-wide, for Datasette's own pages too: long enough for any sensible SQL.
MAX_URL_QUERY_BYTES = 16 * 1024
MAX_URL_PATH_BYTES = 2048


class BadParameter(ValueError):
    """A request parameter outside its bounds; the message is safe to show."""


def bounded_text(value: str | None, name: str, limit: int = MAX_PARAM_CHARS) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise BadParameter(f"{name} is too long ({len(value)} characters; the limit is {limit})")
    return value


def parse_k(raw, default: int = DEFAULT_K, strict: bool = True) -> int:
    """k from a URL or SQL: a whole number, at most MAX_PAGE_K (larger values are capped).

    strict: k < 1 is an error (a URL); otherwise it becomes 1 (SQL, where an
    error would only say "user-defined function raised exception").
    """
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise BadParameter("k must be a whole number")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str):
        raw = raw.strip()
        if len(raw) > 12 or not raw.lstrip("-").isdigit():
            raise BadParameter(f"k must be a whole number from 1 to {MAX_PAGE_K}")
        raw = int(raw)
    if not isinstance(raw, int):
        raise BadParameter(f"k must be a whole number from 1 to {MAX_PAGE_K}")
    if raw < 1 and strict:
        raise BadParameter(f"k must be at least 1, not {raw}")
    return max(1, min(MAX_PAGE_K, raw))
