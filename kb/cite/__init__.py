"""Citation export: claims and their sources as APA 7, BibTeX, RIS, CSL-JSON,
slide-ready Markdown and PowerPoint evidence cards.

Every formatter takes rows as read from the database (dicts of the `sources`
and `claims` tables), so the CLI and the Datasette plugin share them:

    from kb.cite import select, render
    selection = select("build/kb.db", claim_ids=["homeless-ed-compassion-return-visits"])
    print(render("apa", selection.claims, selection.sources))

See docs/citations.md.
"""

from .apa import Bibliography, Reference, apa_references, format_apa
from .bibtex import format_bibtex
from .csl import csl_item, csl_items, format_csl_json, missing_fields
from .markdown import format_markdown
from .pptx import build_presentation, format_pptx
from .render import FORMAT_FOR_EXTENSION, FORMATS, Format, render
from .ris import format_ris
from .select import (
    EmptySelection,
    Selection,
    SelectionError,
    UnknownClaims,
    UnknownTopic,
    select,
    sources_by_key,
    sources_for_claims,
)

__all__ = [
    "Bibliography",
    "EmptySelection",
    "FORMATS",
    "FORMAT_FOR_EXTENSION",
    "Format",
    "Reference",
    "Selection",
    "SelectionError",
    "UnknownClaims",
    "UnknownTopic",
    "apa_references",
    "build_presentation",
    "csl_item",
    "csl_items",
    "format_apa",
    "format_bibtex",
    "format_csl_json",
    "format_markdown",
    "format_pptx",
    "format_ris",
    "missing_fields",
    "render",
    "select",
    "sources_by_key",
    "sources_for_claims",
]
