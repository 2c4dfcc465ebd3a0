"""Claims as the cards the search page shows: statement, figure, certainty in words, citation, copy button."""

from __future__ import annotations

import sqlite3

from kb.charts.axes import CERTAINTY_WORDS
from kb.cite import sources_by_key
from kb.cite.select import claims_by_id, referenced_keys

from . import explorer
from .citations import apa_bundle


def claim_cards(conn: sqlite3.Connection, claim_ids: list[str], links) -> list[dict]:
    """Cards in the order given (ids come from the KB's own queries, so every one is a claim)."""
    found = {c["id"]: c for c in claims_by_id(conn, claim_ids)}
    cards = []
    for claim_id in claim_ids:
        claim = found.get(claim_id)
        if claim is None:
            continue
        # Per claim, the sources `kb cite` would cite, as on the search page.
        bundle = apa_bundle(sources_by_key(conn, referenced_keys(claim)))
        where = explorer.where_quoted(None, None, claim.get("slide_number"), claim.get("slide_heading"))
        cards.append(
            {
                "id": claim_id,
                "url": links.claim(claim_id),
                "statement": claim["statement"],
                "effect_text": claim.get("effect_text"),
                "certainty": claim.get("certainty"),
                "certainty_words": CERTAINTY_WORDS.get(claim.get("certainty") or "", ""),
                "citation": claim.get("citations"),
                "kind": claim.get("kind"),
                "study_design": claim.get("study_design"),
                "discrepancy": claim.get("discrepancy") if claim.get("effect_status") == "discrepant" else None,
                "copy_text": explorer.copy_text(claim["statement"], bundle, where),
                "slide_number": claim.get("slide_number"),
            }
        )
    return cards
