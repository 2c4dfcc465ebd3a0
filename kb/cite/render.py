"""Every export format in one table, so the CLI and the Datasette plugin agree
on names, file extensions and media types."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str
    # "module:function" in kb.cite, imported when first used. The function
    # takes (claims, sources), or only sources when sources_only is set.
    function: str
    sources_only: bool = True
    binary: bool = False
    options: tuple = ()
    description: str = ""
    # The function also takes topic_labels= (topic id -> label): the PPTX evidence map names topics.
    names_topics: bool = False

    def render(self, claims, sources, topic_labels=None) -> str | bytes:
        module, name = self.function.split(":")
        fn = getattr(importlib.import_module(f"kb.cite.{module}"), name)
        args = (list(sources),) if self.sources_only else (list(claims), list(sources))
        if self.names_topics:
            return fn(*args, *self.options, topic_labels=topic_labels)
        return fn(*args, *self.options)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format(
            "apa",
            ".txt",
            "text/plain; charset=utf-8",
            "apa:format_apa",
            options=("plain",),
            description="APA 7 reference list, plain text",
        ),
        Format(
            "apa-markdown",
            ".md",
            "text/markdown; charset=utf-8",
            "apa:format_apa",
            options=("markdown",),
            description="APA 7 reference list, Markdown italics",
        ),
        Format(
            "apa-html",
            ".html",
            "text/html; charset=utf-8",
            "apa:format_apa",
            options=("html",),
            description="APA 7 reference list, HTML fragment",
        ),
        Format(
            "bibtex",
            ".bib",
            "application/x-bibtex; charset=utf-8",
            "bibtex:format_bibtex",
            description="BibTeX entries (bibtexparser 2)",
        ),
        Format(
            "ris",
            ".ris",
            "application/x-research-info-systems; charset=utf-8",
            "ris:format_ris",
            description="RIS for Zotero, EndNote, Mendeley",
        ),
        Format(
            "csl-json",
            ".json",
            "application/vnd.citationstyles.csl+json; charset=utf-8",
            "csl:format_csl_json",
            description="CSL-JSON array",
        ),
        Format(
            "markdown",
            ".md",
            "text/markdown; charset=utf-8",
            "markdown:format_markdown",
            sources_only=False,
            description="slide-ready claims with citations, then references",
        ),
        Format(
            "pptx",
            ".pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx:format_pptx",
            sources_only=False,
            binary=True,
            description="an evidence map, evidence cards (one slide per claim), then references",
            names_topics=True,
        ),
        Format(
            "docx",
            ".docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx:format_docx",
            sources_only=False,
            binary=True,
            description="Word handout, each claim with its figure, certainty and quote, then references",
        ),
    ]
}

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
    ".docx": "docx",
}


class UnwritableExtension(ValueError):
    """`-o` names a file type no export format writes (.pdf, .doc …)."""


def format_for_output(path, explicit_format: str | None) -> str:
    """The format to write to `path`: the explicit one, else the one its
    extension implies; refuses an extension nothing here writes rather than
    silently writing plain text into refs.pdf."""
    from pathlib import Path

    if explicit_format:
        if explicit_format not in FORMATS:
            raise ValueError(f"unknown format {explicit_format!r}; choose from {', '.join(FORMATS)}")
        return explicit_format
    if path is None or str(path) == "-":
        return "apa"
    suffix = Path(str(path)).suffix.lower()
    if suffix in FORMAT_FOR_EXTENSION:
        return FORMAT_FOR_EXTENSION[suffix]
    known = ", ".join(sorted(FORMAT_FOR_EXTENSION))
    raise UnwritableExtension(
        f"cannot write {suffix or 'a file without extension'!s} ({path}); "
        f"use one of {known}, or name the format with --format"
    )


def render(format_name: str, claims, sources, topic_labels=None) -> str | bytes:
    """Render claim rows and the source rows they cite in one format (see FORMATS).
    Source-only formats (apa*, bibtex, ris, csl-json) ignore the claims; topic_labels
    (topic id -> label, Selection.topic_labels) name the PPTX evidence map's rows and columns."""
    try:
        fmt = FORMATS[format_name]
    except KeyError:
        raise ValueError(f"unknown format {format_name!r}; choose from {', '.join(FORMATS)}") from None
    return fmt.render(claims, sources, topic_labels)
