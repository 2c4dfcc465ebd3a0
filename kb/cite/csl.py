"""Sources as CSL-JSON: the normalised form that RIS and APA start from.

ingest stores each source's CSL-JSON item in `sources.csl_json`; this module
reads it back and writes the CSL-JSON export.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

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
    if item.get("URL") and not safe_url(item["URL"]):
        warnings.warn(f"source {key!r}: URL {item['URL']!r} dropped (only http(s), doi: or relative)", stacklevel=2)
        del item["URL"]
    return item


_SAFE_URL = re.compile(
    r"^(?:https?://[^\s\"'<>`]+|doi:[^\s\"'<>`]+|(?![a-z][a-z0-9+.-]*:)[^\s\"'<>`]+)$", re.IGNORECASE
)


def safe_url(url: str) -> bool:
    """http(s), doi: or a relative link; anything else (javascript:, data:…) is not written into an export."""
    return bool(_SAFE_URL.match(str(url).strip())) and not str(url).strip().startswith("//")


def csl_items(sources: Iterable[Mapping]) -> list[dict]:
    return [csl_item(source) for source in sources]


def format_csl_json(sources: Iterable[Mapping]) -> str:
    """A CSL-JSON array (what Zotero, Pandoc and citeproc-js import)."""
    return json.dumps(csl_items(sources), ensure_ascii=False, indent=2) + "\n"


# The official CSL 1.0 input-data schema, vendored byte-for-byte (kb/styles/README.md).
CSL_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "styles" / "csl-data.json"


@lru_cache(maxsize=1)
def _csl_validator():
    import jsonschema  # only tests and `kb check`-style callers validate

    schema = json.loads(CSL_SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def csl_schema_errors(items: list[Mapping]) -> list[str]:
    """Where a list of CSL items breaks the official schema ("item 3 (key): …"); [] when valid."""
    errors = []
    for error in sorted(_csl_validator().iter_errors(list(items)), key=lambda e: list(e.path)):
        where = list(error.path)
        index = where[0] if where and isinstance(where[0], int) else None
        key = items[index].get("id") if index is not None else None
        rest = "/".join(str(p) for p in where[1:])
        errors.append(f"item {index} ({key}){': ' + rest if rest else ''}: {error.message}")
    return errors


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
