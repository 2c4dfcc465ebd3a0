"""Search results as a person reads them in a terminal (the JSON contract is `SearchResult.to_dict()`)."""

from __future__ import annotations

import textwrap


def _format_effect(effect: dict | None) -> str | None:
    if not effect:
        return None
    return effect.get("text") or (
        f"{effect.get('metric')} {effect.get('value')}" if effect.get("value") is not None else None
    )


# The JSON `score` ranks results but means nothing to a reader: people see the match grade instead.
MATCH_WORDS = {"strong": "strong match", "partial": "partial match", "weak": "weak match"}
NO_GOOD_MATCH = "Nothing in the knowledge base answers this well. Closest:"


def format_results(results: list[dict], width: int = 88) -> str:
    """Every result, blank-line separated, led by NO_GOOD_MATCH when none is better than a weak match."""
    blocks = [format_result(r, width) for r in results]
    if results and all(r.get("match") == "weak" for r in results):
        blocks.insert(0, NO_GOOD_MATCH)
    return "\n\n".join(blocks)


def format_result(result: dict, width: int = 88) -> str:
    """One numbered, human-readable result: statement, then effect/certainty/citation, then where."""
    head = f"{result['rank']}. "
    lines = textwrap.wrap(result["statement"], width=width, initial_indent=head, subsequent_indent=" " * len(head))
    indent = " " * len(head)
    facts = []
    headline = result.get("headline")
    if headline:
        # The source's figure first where the deck's differs (search.results.headline_effect).
        label = "Source's figure" if headline["from"] == "source" else "Effect"
        qualifier = f" ({headline['qualifier']})" if headline.get("qualifier") else ""
        facts.append(f"{label}: {headline['figure']}{qualifier}")
    elif effect := _format_effect(result.get("effect")):
        facts.append(f"Effect: {effect}")
    facts.insert(0, MATCH_WORDS.get(result.get("match"), "weak match"))
    if result.get("certainty"):
        reason = f" — {result['certainty_reason']}" if result.get("certainty_reason") else ""
        facts.append(f"Certainty: {result['certainty'].replace('_', ' ')}{reason}")
    facts.append(result["kind"])
    if result.get("study_design"):
        facts.append(result["study_design"].replace("_", " "))
    facts.append(result.get("citation") or "no source cited")
    lines.append(indent + " · ".join(facts))
    if result.get("discrepancy"):
        lines += textwrap.wrap(
            "Deck and source differ: " + result["discrepancy"],
            width=width,
            initial_indent=indent + "! ",
            subsequent_indent=indent + "  ",
        )
    loc = result["location"]
    document = result.get("document") or {}
    where = [document["title"]] if document.get("title") else []
    if loc.get("slide_number") is not None:
        where.append(
            f"slide {loc['slide_number']}" + (f" “{loc['slide_heading']}”" if loc.get("slide_heading") else "")
        )
    if loc.get("line_start") is not None:
        if loc.get("line_end") in (None, loc["line_start"]):
            where.append(f"line {loc['line_start']}")
        else:
            where.append(f"lines {loc['line_start']}-{loc['line_end']}")
    lines.append(indent + ", ".join(where) + f" · id: {result['id']}")
    also = result.get("also_stated_in") or []
    if also:
        named = "; ".join(f"{a.get('document_title') or a['document_id']} ({a['id']})" for a in also)
        lines += textwrap.wrap(
            "Also stated in: " + named, width=width, initial_indent=indent, subsequent_indent=indent + "  "
        )
    return "\n".join(lines)
