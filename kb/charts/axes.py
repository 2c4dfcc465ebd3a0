"""How claims are placed on the evidence map and on the value chain's layers.

The map follows the evidence-gap-map convention (White et al., 2020, Campbell
Systematic Reviews 16:e1125): rows are interventions or exposures, columns are
outcomes. The KB's claims carry free-text PICO fields ("Compassionate GPs",
"Referrals to a specialist") that are too varied to be axes, and curated
topics that are not: so each topic is assigned to one side here, once.

* A claim is on the map when it has a PICO intervention or outcome (findings
  and associations; frameworks, quotes and context have neither).
* It sits in every (exposure topic, outcome topic) cell its topics allow;
  bubble sizes count distinct claims, so one claim may appear in two cells.
* A mapped claim with no exposure topic goes to the row OTHER_EXPOSURE, one
  with no outcome topic to the column OTHER_OUTCOME: nothing mapped is lost.
* Setting and population topics (diabetes, HIV, care homes, ...) are neither
  side: they say where, not what.

A topic added to topics.yaml and not listed here is treated as a setting until
it is listed; the map page says which topics it ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from ingest.schema import json_list

# Exposure topics, in the order the rows are drawn (leadership first, as in the value chain).
EXPOSURE_TOPICS = (
    "compassionate-leadership",
    "collective-leadership",
    "culture",
    "human-resources",
    "teamwork",
    "team-reflexivity",
    "psychological-safety",
    "core-needs",
    "compassionate-care",
    "recovery",
    "self-care",
    "self-compassion",
    "equity-inclusion",
)
# Outcome topics, in the order the columns are drawn (staff, then patients, then money).
OUTCOME_TOPICS = (
    "staff-wellbeing",
    "staff-experience",
    "clinician-wellbeing",
    "workforce",
    "innovation",
    "patient-experience",
    "patient-outcomes",
    "mental-health",
    "costs-and-utilisation",
)
OTHER_EXPOSURE = "(other exposure)"
OTHER_OUTCOME = "(other outcome)"

# GRADE's four levels plus the KB's "not assessed", best first; the map's colour scale.
CERTAINTY_ORDER = ("high", "moderate", "low", "very_low", "not_assessed")
CERTAINTY_COLOURS = ("#1b7837", "#7fbf7b", "#f1a340", "#d73027", "#9e9e9e")
# What each level means, in the words GRADE uses for readers (Balshem et al., 2011).
CERTAINTY_WORDS = {
    "high": "High certainty: further research is very unlikely to change confidence in the estimate.",
    "moderate": "Moderate certainty: further research is likely to have an important impact on the estimate.",
    "low": "Low certainty: further research is very likely to change the estimate.",
    "very_low": "Very low certainty: any estimate of effect is very uncertain.",
    "not_assessed": "Certainty not assessed (not a finding about an effect).",
}

# The value chain's layers (leadership -> staff -> patients -> finances). A claim's
# layer is the first layer any of its topics belongs to, so a link "leadership
# leads to staff engagement" sits where its cause is.
LAYERS = (
    ("Leadership", ("compassionate-leadership", "collective-leadership", "culture", "human-resources")),
    (
        "Staff",
        (
            "staff-experience",
            "staff-wellbeing",
            "clinician-wellbeing",
            "workforce",
            "teamwork",
            "team-reflexivity",
            "psychological-safety",
            "core-needs",
            "recovery",
            "self-care",
            "self-compassion",
        ),
    ),
    ("Patients", ("compassionate-care", "patient-experience", "patient-outcomes", "mental-health")),
    ("Finances", ("costs-and-utilisation",)),
)
OTHER_LAYER = "Other"


def is_mapped(claim: Mapping) -> bool:
    """On the map at all: the claim names a PICO intervention or outcome (the SQL's `is not null` test)."""
    return claim.get("intervention") is not None or claim.get("outcome") is not None


def cells_of(claim: Mapping) -> list[tuple[str, str]]:
    """Every (exposure, outcome) cell a claim row sits in, by the rules above; [] when it is not mapped.

    The claim's topics come from its `topics` column (a JSON array, as the claims table stores it, or a list).
    """
    if not is_mapped(claim):
        return []
    topics = set(json_list(claim.get("topics")))
    exposures = [t for t in EXPOSURE_TOPICS if t in topics] or [OTHER_EXPOSURE]
    outcomes = [t for t in OUTCOME_TOPICS if t in topics] or [OTHER_OUTCOME]
    return [(e, o) for e in exposures for o in outcomes]


def layer_of(topics: list[str]) -> str:
    for name, members in LAYERS:
        if any(t in members for t in topics):
            return name
    return OTHER_LAYER


def layer_names() -> list[str]:
    return [name for name, _ in LAYERS] + [OTHER_LAYER]
