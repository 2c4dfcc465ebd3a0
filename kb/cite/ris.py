"""Sources as RIS, the format Zotero, EndNote, Mendeley and RefWorks all import.

Written from each source's CSL-JSON item. Tags follow the RIS specification as
Zotero's RIS translator and EndNote read it: `TAG  - value` lines, CRLF line
ends, one `TY` first and `ER` last per record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .csl import csl_item, issued_parts, names

# CSL type → RIS type. The five the issue names come first; the rest keep
# anything else ingest may produce importable rather than dumped into GEN.
RIS_TYPES = {
    "article-journal": "JOUR",
    "book": "BOOK",
    "chapter": "CHAP",
    "report": "RPRT",
    "webpage": "ELEC",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "paper-conference": "CPAPER",
    "thesis": "THES",
    "dataset": "DATA",
    "software": "COMP",
    "post-weblog": "BLOG",
    # A work whose venue could not be confirmed (a @misc without URL). GEN is
    # read by Zotero as a journal article, which would assert a journal we do
    # not know; UNPB imports as a manuscript, the nearest type that claims none.
    "document": "UNPB",
    "manuscript": "UNPB",
}
DEFAULT_RIS_TYPE = "GEN"

# Where editors go differs by type: Zotero's translator (and EndNote) read A2
# as the book's editor for a chapter, but as the series editor for a book,
# whose own editors are A3.
_EDITOR_TAG = {"CHAP": "A2", "BOOK": "A3"}


def ris_name(name: Mapping) -> str:
    """`Family, Given`. An institution keeps a trailing comma, EndNote's
    marker for a corporate author, so it is not split into "NHS" + "England";
    Zotero reads it as a one-part name as well."""
    if name.get("literal"):
        return f"{name['literal']},"
    family = " ".join(filter(None, [name.get("non-dropping-particle"), name.get("family")]))
    given = " ".join(filter(None, [name.get("given"), name.get("dropping-particle")]))
    suffix = name.get("suffix")
    return ", ".join(filter(None, [family, given, suffix]))


def _date(parts: list) -> str:
    # RIS dates are YYYY/MM/DD/other-info, with empty slots kept.
    padded = [f"{p:04d}" if i == 0 else f"{p:02d}" for i, p in enumerate(parts)] + [""] * (3 - len(parts))
    return "/".join(padded[:3]) + "/"


def _split_range(page: str) -> tuple[str, str, str]:
    match = re.match(r"^\s*(\S+?)\s*(?:-+|–|—)\s*(\S+)\s*$", page)
    if match:
        return match.group(1), "-", match.group(2)
    return page.strip(), "", ""


def ris_record(item: Mapping) -> list[tuple[str, str]]:
    """One CSL item as (tag, value) pairs, TY first and ER last."""
    ris_type = RIS_TYPES.get(item.get("type", ""), DEFAULT_RIS_TYPE)
    tags: list[tuple[str, str]] = [("TY", ris_type)]
    if item.get("id"):
        tags.append(("ID", str(item["id"])))
    for name in names(item, "author"):
        tags.append(("AU", ris_name(name)))
    editor_tag = _EDITOR_TAG.get(ris_type, "A2")
    for name in names(item, "editor"):
        tags.append((editor_tag, ris_name(name)))
    if item.get("title"):
        tags.append(("TI", item["title"]))
    if item.get("container-title"):
        tags.append(("T2", item["container-title"]))
    elif item.get("collection-title"):
        tags.append(("T2", item["collection-title"]))
    parts = issued_parts(item)
    if parts:
        tags.append(("PY", f"{parts[0]:04d}"))
        if len(parts) > 1:
            tags.append(("DA", _date(parts)))
    for variable, tag in (("volume", "VL"), ("issue", "IS")):
        if item.get(variable):
            tags.append((tag, str(item[variable])))
    if item.get("page"):
        first, _, last = _split_range(str(item["page"]))
        tags.append(("SP", first))
        if last:
            tags.append(("EP", last))
    elif item.get("number") and ris_type == "JOUR":
        tags.append(("SP", str(item["number"])))  # article number / eLocator
    for variable, tag in (("edition", "ET"), ("publisher", "PB"), ("publisher-place", "CY"), ("genre", "M3")):
        if item.get(variable):
            tags.append((tag, str(item[variable])))
    if ris_type == "RPRT" and item.get("number"):
        tags.append(("SN", str(item["number"])))  # Zotero: report number
    else:
        for variable in ("ISBN", "ISSN"):
            if item.get(variable):
                tags.append(("SN", str(item[variable])))
    if item.get("DOI"):
        tags.append(("DO", item["DOI"]))
    if item.get("URL"):
        tags.append(("UR", item["URL"]))
    accessed = issued_parts({"issued": item.get("accessed")}) if item.get("accessed") else []
    if accessed:
        tags.append(("Y2", _date(accessed)))
    if item.get("language"):
        tags.append(("LA", item["language"]))
    if item.get("note"):
        tags.append(("N1", item["note"]))
    tags.append(("ER", ""))
    return tags


def format_ris(sources: Iterable[Mapping]) -> str:
    records = []
    for source in sources:
        lines = [f"{tag}  - {_one_line(value)}" for tag, value in ris_record(csl_item(source))]
        records.append("\r\n".join(lines) + "\r\n")
    # A blank line between records, as Zotero writes them.
    return "\r\n".join(records)


def _one_line(value: str) -> str:
    # A RIS value cannot span lines: the next line would be read as a new tag.
    return re.sub(r"\s*[\r\n]+\s*", " ", str(value)).strip() if value else ""
