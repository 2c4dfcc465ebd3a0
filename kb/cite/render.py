"""Every export format in one table, so the CLI and the Datasette plugin agree
on names, file extensions and media types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .apa import format_apa
from .bibtex import format_bibtex
from .csl import format_csl_json
from .markdown import format_markdown
from .pptx import format_pptx
from .ris import format_ris


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str
    # (claims, sources) -> str, or bytes for binary formats.
    render: Callable
    binary: bool = False
    description: str = ""


def _sources_only(fn):
    return lambda claims, sources: fn(sources)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("apa", ".txt", "text/plain; charset=utf-8", _sources_only(format_apa),
               description="APA 7 reference list, plain text"),
        Format("apa-markdown", ".md", "text/markdown; charset=utf-8",
               _sources_only(lambda s: format_apa(s, "markdown")),
               description="APA 7 reference list, Markdown italics"),
        Format("apa-html", ".html", "text/html; charset=utf-8", _sources_only(lambda s: format_apa(s, "html")),
               description="APA 7 reference list, HTML fragment"),
        Format("bibtex", ".bib", "application/x-bibtex; charset=utf-8", _sources_only(format_bibtex),
               description="BibTeX entries (bibtexparser 2)"),
        Format("ris", ".ris", "application/x-research-info-systems; charset=utf-8", _sources_only(format_ris),
               description="RIS for Zotero, EndNote, Mendeley"),
        Format("csl-json", ".json", "application/vnd.citationstyles.csl+json; charset=utf-8",
               _sources_only(format_csl_json), description="CSL-JSON array"),
        Format("markdown", ".md", "text/markdown; charset=utf-8", format_markdown,
               description="slide-ready claims with citations, then references"),
        Format("pptx", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
               format_pptx, binary=True, description="evidence cards, one slide per claim, then references"),
    ]
}  # fmt: skip

# -o refs.bib picks bibtex without --format; .md and .txt are ambiguous
# between formats, so they choose the slide-ready and plain APA ones.
FORMAT_FOR_EXTENSION = {
    ".bib": "bibtex",
    ".ris": "ris",
    ".json": "csl-json",
    ".md": "markdown",
    ".txt": "apa",
    ".html": "apa-html",
    ".pptx": "pptx",
}


def render(format_name: str, claims, sources) -> str | bytes:
    """Render claim rows and their source rows in one format (see FORMATS)."""
    try:
        fmt = FORMATS[format_name]
    except KeyError:
        raise ValueError(f"unknown format {format_name!r}; choose from {', '.join(FORMATS)}") from None
    return fmt.render(list(claims), list(sources))
