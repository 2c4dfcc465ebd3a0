"""What text is embedded for each claim, and its content hash.

The statement alone is short and written in the deck's vocabulary; leaders ask
in their own words ("painkillers", "A&E", "burnout"). Curated keywords, the
PICO outcome/population/intervention and the topic labels add exactly those
words, so the vector lands nearer the questions people ask. Statement first:
the model truncates at 256 word pieces and the statement matters most. The
choice was measured with `kb eval` (docs/search.md).
"""

from __future__ import annotations

import hashlib

from ingest.schema import json_list

# Which parts go into the embedded text, in order. Kept as data so the
# evaluation script can compare recipes; DEFAULT_RECIPE is the measured winner.
RECIPES = {
    "statement": ("statement",),
    "statement+keywords": ("statement", "keywords"),
    "statement+keywords+pico+topics": ("statement", "keywords", "pico", "topics"),
    "statement+keywords+topics": ("statement", "keywords", "topics"),
    "statement+pico+topics": ("statement", "pico", "topics"),
    "all": ("statement", "keywords", "pico", "topics", "items", "heading"),
}
DEFAULT_RECIPE = "statement+keywords+pico+topics"

# Columns of `claims` that embedding_text reads; search.artifacts selects exactly these.
EMBEDDED_COLUMNS = (
    "id",
    "statement",
    "keywords",
    "population",
    "intervention",
    "outcome",
    "items_text",
    "slide_heading",
    "topics",
)


def embedding_text(claim: dict, topic_labels: dict[str, str], recipe: str = DEFAULT_RECIPE) -> str:
    """The text embedded for one claim row (a dict with EMBEDDED_COLUMNS)."""
    parts = []
    for part in RECIPES[recipe]:
        if part == "statement":
            parts.append((claim.get("statement") or "").strip())
        elif part == "keywords":
            keywords = json_list(claim.get("keywords"))
            if keywords:
                parts.append("Keywords: " + ", ".join(keywords) + ".")
        elif part == "pico":
            pico = [claim.get(k) for k in ("population", "intervention", "outcome") if claim.get(k)]
            if pico:
                parts.append("; ".join(pico) + ".")
        elif part == "topics":
            labels = [topic_labels.get(t, t) for t in json_list(claim.get("topics"))]
            if labels:
                parts.append("Topics: " + ", ".join(labels) + ".")
        elif part == "items":
            if claim.get("items_text"):
                parts.append(claim["items_text"].replace("\n", "; "))
        elif part == "heading":
            if claim.get("slide_heading"):
                parts.append(claim["slide_heading"])
    return " ".join(p for p in parts if p)


def content_hash(text: str) -> str:
    """sha256 of the embedded text: a claim is re-embedded exactly when this changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
