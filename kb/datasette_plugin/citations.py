"""From rows on a Datasette page to the sources they cite, formatted by kb.cite.

Any table, view or SQL result can be exported when a column holds a source
key or a claim id. The sources chosen for a claim are exactly those `kb cite`
chooses (kb.cite.select.referenced_keys); formatting is kb.cite.render, the
same table of formats the CLI uses, so the browser and the command line can
never disagree about a reference.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence

from ingest.db import connect
from ingest.schema import json_list
from kb.cite import FORMATS, Bibliography, render, sources_by_key
from kb.cite.apa import html_to_runs
from kb.cite.select import claims_by_id, referenced_keys

# A row "is about" a source when one of these holds a known source key...
SOURCE_COLUMNS = ("key", "source_key")
# ...else about the claims in these columns...
CLAIM_ID_COLUMNS = ("id", "claim_id", "from_claim", "to_claim")
# ...else these name the sources directly (a query over claims without their id).
FALLBACK_SOURCE_COLUMNS = ("source_keys", "source_effect_source")
CITABLE_COLUMNS = frozenset(SOURCE_COLUMNS + CLAIM_ID_COLUMNS + FALLBACK_SOURCE_COLUMNS)
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
    # Cells of any type arrive here; only a JSON array of strings names keys.
    if not isinstance(value, str) or not value.startswith("["):
        return []
    return [k for k in json_list(value) if isinstance(k, str)]


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
    claim_cols = [c for c in CLAIM_ID_COLUMNS if c in columns]
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
    return apa_bundle(sources, html=True)["references"]


def apa_bundle(sources: list[dict], html: bool = False) -> dict:
    """A reference list and its parenthetical citation, rendered together so they agree.

    kb.cite's HTML form is turned back into (text, italic) runs so a template
    can show italics without ever marking data as safe. citeproc takes ~30 ms
    a reference, the slowest step of any page, so results are cached on the
    sources' content (and warmed in the background at startup).
    """
    if not sources:
        return {"references": [], "in_text": ""}
    # APA orders the list itself, so input order is irrelevant: sorting makes one cache entry.
    sources = sorted(sources, key=lambda s: s["key"])
    content = tuple((s.get("key"), s.get("csl_json")) for s in sources)
    bibliography = None

    def rendered(markup: str) -> list:
        nonlocal bibliography
        key = (content, markup)
        with _cache_lock:
            hit = _rendered.get(key)
        if hit is not None:
            return hit
        if bibliography is None:
            bibliography = Bibliography(sources)
        if markup == "in_text":
            value = [bibliography.cite([s["key"] for s in sources])] + [
                bibliography.cite([k]) for k in bibliography.keys
            ]
        else:
            value = [(r.key, r.text) for r in bibliography.references(markup)]
        with _cache_lock:
            if len(_rendered) >= _CACHE_SIZE:
                _rendered.pop(next(iter(_rendered)))
            _rendered[key] = value
        return value

    plain = rendered("plain")
    in_text = rendered("in_text")
    html_text = dict(rendered("html")) if html else {}
    by_key = {s["key"]: s for s in sources}
    references = [
        {
            "key": key,
            "runs": html_to_runs(html_text[key]) if key in html_text else [(text, False)],
            "plain": text,
            "in_text": cite,
            "source": by_key.get(key, {}),
        }
        for (key, text), cite in zip(plain, in_text[1:])
    ]
    return {"references": references, "in_text": in_text[0]}


_rendered: dict = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 4096


def warm(conn: sqlite3.Connection) -> int:
    """Render, once, the references the first claim and source pages will show, until the cache is full.

    Bounded by _CACHE_SIZE: past it each new entry evicts an older one, so
    rendering every claim of a large KB (95 s of CPU at 1M claims) would only
    slow the first queries and keep nothing. Returns the bundles rendered.
    """
    from kb.cite.select import referenced_keys

    def full() -> bool:
        with _cache_lock:
            return len(_rendered) >= _CACHE_SIZE

    count = 0
    # Each bundle fills 2-3 entries (plain, in-text, HTML), so this many rows always suffices.
    for (key,) in conn.execute("select key from sources limit ?", [_CACHE_SIZE]).fetchall():
        if full():
            return count
        apa_bundle(sources_by_key(conn, [key]), html=True)
        count += 1
    claims = conn.execute("select id from claims order by document_id, char_start limit ?", [_CACHE_SIZE])
    for (claim_id,) in claims.fetchall():
        if full():
            break
        claim = claims_by_id(conn, [claim_id])[0]
        linked = [r[0] for r in conn.execute("select source_key from claim_sources where claim_id = ?", [claim_id])]
        apa_bundle(sources_by_key(conn, referenced_keys(claim)))
        count += 1
        if linked:
            apa_bundle(sources_by_key(conn, linked), html=True)
    return count


def warm_in_background(db_path: str | None) -> None:
    """Warm the reference cache in a daemon thread, on its own read-only connection.

    A thread, not a task: `kb serve` runs startup on a loop that closes before
    uvicorn starts its own. Visitors arriving first just render on demand.
    """
    if not db_path:
        return

    def work():
        try:
            conn = connect(db_path, check_same_thread=False)
        except sqlite3.Error:
            return
        try:
            warm(conn)
        except Exception as exc:  # a warm-up failure must never stop the server
            print(f"evidence-kb: could not pre-render citations: {exc}", file=sys.stderr)
        finally:
            conn.close()

    threading.Thread(target=work, name="kb-warm-citations", daemon=True).start()
