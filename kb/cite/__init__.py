"""Citation export: claims and their sources as APA 7, BibTeX, RIS, CSL-JSON,
slide-ready Markdown, PowerPoint evidence cards and a Word handout.

Every formatter takes rows as read from the database (dicts of the `sources`
and `claims` tables), so the CLI and the Datasette plugin share them:

    from kb.cite import select, render
    selection = select("build/kb.db", claim_ids=["homeless-ed-compassion-return-visits"])
    print(render("apa", selection.claims, selection.sources))

See docs/citations.md. Names are imported on first use, so that `kb --help`
does not load citeproc-py, python-pptx and python-docx.
"""

from __future__ import annotations

import importlib

# Light modules load now; binding `render` here also keeps the name meaning
# the function, not the kb.cite.render submodule.
from .render import FORMAT_FOR_EXTENSION, FORMATS, Format, UnwritableExtension, format_for_output, render
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

_LAZY = {
    "Bibliography": "apa",
    "Reference": "apa",
    "apa_references": "apa",
    "format_apa": "apa",
    "format_bibtex": "bibtex",
    "csl_item": "csl",
    "csl_items": "csl",
    "format_csl_json": "csl",
    "missing_fields": "csl",
    "build_handout": "docx",
    "format_docx": "docx",
    "format_markdown": "markdown",
    "build_presentation": "pptx",
    "format_pptx": "pptx",
    "format_ris": "ris",
}

__all__ = sorted(
    [
        *_LAZY,
        "FORMAT_FOR_EXTENSION",
        "FORMATS",
        "Format",
        "UnwritableExtension",
        "format_for_output",
        "render",
        "EmptySelection",
        "Selection",
        "SelectionError",
        "UnknownClaims",
        "UnknownTopic",
        "select",
        "sources_by_key",
        "sources_for_claims",
    ]
)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'kb.cite' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
