"""From rows on a Datasette page to the sources they cite, formatted by kb.cite.

Any table, view or SQL result can be exported when a column holds a source
key or a claim id. The sources chosen for a claim are exactly those `kb cite`
chooses (kb.cite.select.referenced_keys); formatting is kb.cite.render, the
same table of formats the CLI uses, so the browser and the command line can
never disagree about a reference.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence

from kb.cite import Bibliography, render, sources_by_key
from kb.cite.apa import html_to_runs
from kb.cite.render import FORMATS
from kb.cite.select import claims_by_id, referenced_keys

# A row "is about" a source when one of these holds a known source key...
SOURCE_COLUMNS = ("key", "source_key")
# ...else about the claims in these columns...
CLAIM_COLUMNS = ("id", "claim_id", "from_claim", "to_claim")
# ...else these name the sources directly (a query over claims without their id).
FALLBACK_SOURCE_COLUMNS = ("source_keys", "source_effect_source")
CITABLE_COLUMNS = frozenset(SOURCE_COLUMNS + CLAIM_COLUMNS + FALLBACK_SOURCE_COLUMNS)
_CHUNK = 500


def has_citable_column(columns: Iterable[str]) -> bool:
    return bool(CITABLE_COLUMNS.intersection(columns or ()))


def _plain(value):
    # With ?_labels=on (Datasette adds it to renderer links on tables with
    # foreign keys) a key arrives as {"value": key, "label": title}.
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _as_dicts(columns: Sequence[str], rows) -> list[dict]:
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append({c: _plain(row.get(c)) for c in columns})
        else:
            out.append({c: _plain(v) for c, v in zip(columns, tuple(row))})
    return out


def _json_keys(value) -> list[str]:
    if not isinstance(value, str) or not value.startswith("["):
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    return [k for k in parsed if isinstance(k, str)] if isinstance(parsed, list) else []


def _existing(conn: sqlite3.Connection, table: str, column: str, values: set[str]) -> set[str]:
    values = sorted(v for v in values if isinstance(v, str) and v)
    found: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(f"select {column} from {table} where {column} in ({marks})", chunk))
    return found


def source_keys_for_rows(conn: sqlite3.Connection, columns: Sequence[str], rows) -> list[str]:
    """The keys of the sources these rows cite, each once, in order of first mention."""
    columns = list(columns or [])
    if not has_citable_column(columns):
        return []
    rows = _as_dicts(columns, rows)
    source_cols = [c for c in SOURCE_COLUMNS if c in columns]
    claim_cols = [c for c in CLAIM_COLUMNS if c in columns]
    fallback_cols = [c for c in FALLBACK_SOURCE_COLUMNS if c in columns]

    candidate_sources, candidate_claims = set(), set()
    for row in rows:
        candidate_sources.update(row.get(c) for c in source_cols + ["source_effect_source"] if c in row)
        if "source_keys" in row:
            candidate_sources.update(_json_keys(row["source_keys"]))
        candidate_claims.update(row.get(c) for c in claim_cols)
    known_sources = _existing(conn, "sources", "key", candidate_sources)
    known_claims = _existing(conn, "claims", "id", candidate_claims)
    claims = {c["id"]: c for c in claims_by_id(conn, sorted(known_claims))} if known_claims else {}

    keys: dict[str, None] = {}
    for row in rows:
        direct = [row[c] for c in source_cols if row.get(c) in known_sources]
        if direct:
            keys.update(dict.fromkeys(direct))
            continue
        row_claims = [row[c] for c in claim_cols if row.get(c) in claims]
        if row_claims:
            for claim_id in row_claims:
                keys.update(dict.fromkeys(referenced_keys(claims[claim_id])))
            continue
        for c in fallback_cols:
            named = _json_keys(row.get(c)) if c == "source_keys" else [row.get(c)]
            keys.update(dict.fromkeys(k for k in named if k in known_sources))
    # A claim's keys were not in the first lookup; the schema's foreign keys
    # make a miss impossible, but an export must not fail on a hand-edited copy.
    present = _existing(conn, "sources", "key", set(keys))
    return [k for k in keys if k in present]


def sources_for_rows(conn: sqlite3.Connection, columns: Sequence[str], rows) -> list[dict]:
    keys = source_keys_for_rows(conn, columns, rows)
    return sources_by_key(conn, keys) if keys else []


def export(format_name: str, sources: list[dict]) -> tuple[str, str]:
    """(body, media type) in one of kb.cite's formats."""
    fmt = FORMATS[format_name]
    return render(format_name, [], sources), fmt.media_type


def apa_for_page(sources: list[dict]) -> list[dict]:
    """APA references for an HTML page: italic runs to render escaped, and plain text to copy."""
    return apa_bundle(sources)["references"]


def apa_bundle(sources: list[dict]) -> dict:
    """A reference list and its parenthetical citation, rendered together so they agree.

    kb.cite's HTML form is turned back into (text, italic) runs so a template
    can show italics without ever marking data as safe. Cached on the
    sources' content: citeproc is the slowest step of a page.
    """
    if not sources:
        return {"references": [], "in_text": ""}
    cache_key = tuple((s.get("key"), s.get("csl_json")) for s in sources)
    with _bundle_lock:
        hit = _bundles.get(cache_key)
    if hit is not None:
        return hit
    bibliography = Bibliography(sources)
    html_refs = bibliography.references("html")
    plain_refs = {r.key: r.text for r in bibliography.references("plain")}
    by_key = {s["key"]: s for s in sources}
    references = [
        {
            "key": ref.key,
            "runs": html_to_runs(ref.text),
            "plain": plain_refs.get(ref.key, ""),
            "in_text": bibliography.cite([ref.key]),
            "source": by_key.get(ref.key, {}),
        }
        for ref in html_refs
    ]
    bundle = {"references": references, "in_text": bibliography.cite([s["key"] for s in sources])}
    with _bundle_lock:
        if len(_bundles) >= _BUNDLE_CACHE_SIZE:
            _bundles.pop(next(iter(_bundles)))
        _bundles[cache_key] = bundle
    return bundle


_bundles: dict = {}
_bundle_lock = threading.Lock()
_BUNDLE_CACHE_SIZE = 512
