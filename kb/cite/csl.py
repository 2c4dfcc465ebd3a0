"""Sources as CSL-JSON: the normalised form that RIS and APA start from.

ingest stores each source's CSL-JSON item in `sources.csl_json`; this module
reads it back and writes the CSL-JSON export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from ingest.schema import json_list

# Variables that only make sense inside this knowledge base. The year suffix is
# assigned across the whole KB at build time; a reference manager (and
# kb.cite.apa, for a selection) assigns its own.
_KB_ONLY = ("year-suffix",)


def csl_item(source: Mapping) -> dict:
    """The source's CSL-JSON item as a new dict, its `id` set to the citation key."""
    raw = source.get("csl_json")
    key = source.get("key")
    if not raw:
        raise ValueError(f"source {key!r} has no csl_json")
    item = json.loads(raw) if isinstance(raw, str) else dict(raw)
    if key:
        item["id"] = key
    for name in _KB_ONLY:
        item.pop(name, None)
    return item


def csl_items(sources: Iterable[Mapping]) -> list[dict]:
    return [csl_item(source) for source in sources]


def format_csl_json(sources: Iterable[Mapping]) -> str:
    """A CSL-JSON array (what Zotero, Pandoc and citeproc-js import)."""
    # kb-* flags steer our own renderers; they are not CSL variables.
    items = [{k: v for k, v in item.items() if not k.startswith("kb-")} for item in csl_items(sources)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def missing_fields(source: Mapping) -> list[str]:
    """The recommended fields ingest found missing (`sources.missing_fields`)."""
    return list(json_list(source.get("missing_fields")))


def names(item: Mapping, variable: str = "author") -> list[dict]:
    return [n for n in item.get(variable) or [] if isinstance(n, Mapping)]


def issued_parts(item: Mapping) -> list[int]:
    """[year, month, day] as far as known; [] when the item has no usable date."""
    issued = item.get("issued") or {}
    parts = (issued.get("date-parts") or [[]])[0] or []
    out = []
    for part in parts:
        try:
            out.append(int(part))
        except (TypeError, ValueError):
            break
    return out
