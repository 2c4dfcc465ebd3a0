"""Sources as BibTeX, for LaTeX users and any reference manager.

The entries are the ones curated in citations.bib (`sources.bibtex`), re-parsed
and written back with bibtexparser 2 so that every export is well formed and
laid out the same way. No field is added, dropped or re-cased: titles keep
their protective braces ({NHS}), which BibTeX styles need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.writer import BibtexFormat


def _format() -> BibtexFormat:
    fmt = BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n\n"
    return fmt


def bibtex_entry(source: Mapping):
    """The source's entry as a bibtexparser `Entry`; raises ValueError if unusable."""
    key = source.get("key")
    text = source.get("bibtex")
    if not text:
        raise ValueError(f"source {key!r} has no bibtex")
    library = bibtexparser.parse_string(text)
    if library.failed_blocks or len(library.entries) != 1:
        raise ValueError(f"source {key!r}: stored bibtex is not exactly one well-formed entry")
    return library.entries[0]


def format_bibtex(sources: Iterable[Mapping]) -> str:
    """A .bib file holding each source once, in the order given."""
    entries, seen = [], set()
    for source in sources:
        entry = bibtex_entry(source)
        if entry.key in seen:
            continue
        seen.add(entry.key)
        entries.append(entry)
    if not entries:
        return ""
    return bibtexparser.write_string(Library(entries), bibtex_format=_format())
