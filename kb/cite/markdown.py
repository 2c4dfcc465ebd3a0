"""Slide-ready Markdown: each claim with its effect and in-text citation, then
the APA reference list. A deck-vs-source discrepancy becomes a footnote.

Claims are separated by `---`, so the file also works as a Marp or Pandoc
slide deck: one slide per claim and a references slide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from search.results import headline_effect

from .apa import Bibliography, markdown_escape
from .select import cited_keys

CERTAINTY_LABELS = {
    "high": "High",
    "moderate": "Moderate",
    "low": "Low",
    "very_low": "Very low",
    "not_assessed": "Not assessed",
}


def certainty_label(value: str | None) -> str | None:
    if not value:
        return None
    return CERTAINTY_LABELS.get(value, value.replace("_", " ").capitalize())


def certainty_line(claim: Mapping) -> str | None:
    """ "Moderate — reason" (issue 10.5): the badge with its one-line reason."""
    label = certainty_label(claim.get("certainty"))
    if not label:
        return None
    note = " ".join((claim.get("certainty_note") or "").split())
    return f"{label} \u2014 {note}" if note else label


def discrepancy_note(claim: Mapping, bibliography: Bibliography, markup: str = "markdown") -> str | None:
    """ "The deck says …; the source reports …" plus the curator's explanation,
    or None when deck and source agree (or were not compared)."""
    explanation = claim.get("discrepancy")
    if not explanation:
        return None
    esc = markdown_escape if markup == "markdown" else str
    parts = []
    if claim.get("effect_text"):
        parts.append(f"Deck: \u201c{esc(claim['effect_text'])}\u201d.")
    if claim.get("source_effect_text"):
        where = f" ({esc(claim['source_effect_location'])})" if claim.get("source_effect_location") else ""
        cite = bibliography.cite([claim["source_effect_source"]], markup) if claim.get("source_effect_source") else ""
        parts.append(f"Source{where}: \u201c{esc(claim['source_effect_text'])}\u201d{' ' + cite if cite else ''}.")
    parts.append(esc(explanation.strip()))
    return " ".join(parts)


def format_markdown(claims: Iterable[Mapping], sources: Iterable[Mapping]) -> str:
    """Claim rows (in the order to show them) and the source rows they cite."""
    claims = list(claims)
    bibliography = Bibliography(sources)
    blocks: list[str] = []
    footnotes: list[str] = []
    for claim in claims:
        citation = bibliography.cite(cited_keys(claim), "markdown")
        note = discrepancy_note(claim, bibliography)
        marker = ""
        if note:
            footnotes.append(note)
            marker = f"[^{len(footnotes)}]"
        statement = markdown_escape(" ".join(claim["statement"].split()))
        lines = []
        figure, qualifier = headline_effect(claim)
        if figure:
            lines.append(f"**{statement}**")
            label = "Source figure" if claim.get("effect_status") == "discrepant" and qualifier else "Effect"
            effect = f"{label}: {markdown_escape(figure)}" + (f" ({markdown_escape(qualifier)})" if qualifier else "")
            lines.append(" ".join(filter(None, [effect, citation])) + marker)
        else:
            lines.append(" ".join(filter(None, [f"**{statement}**", citation])) + marker)
        if not citation:
            # Said on the slide text itself, not only on stderr, so an unsourced
            # claim is not mistaken for a sourced one.
            lines.append("Source: none identified")
        if certainty_line(claim):
            lines.append(f"Certainty: {markdown_escape(certainty_line(claim))}")
        blocks.append("\n\n".join(lines))
    references = bibliography.format("markdown").strip()
    blocks.append("## References\n\n" + (references or "No sources cited."))
    text = "\n\n---\n\n".join(blocks) + "\n"
    if footnotes:
        text += "\n" + "\n".join(f"[^{i}]: {note}" for i, note in enumerate(footnotes, 1)) + "\n"
    return text
