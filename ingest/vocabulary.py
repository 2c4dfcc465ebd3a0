"""Controlled vocabularies. Topics live in evidence/topics.yaml; the rest are fixed here
because code branches on them."""

KINDS = ("finding", "association", "framework", "context", "recommendation", "quote")

DIRECTIONS = ("increase", "decrease", "no_difference", "not_stated")

CERTAINTY = ("high", "moderate", "low", "very_low", "not_assessed")

SOURCE_ROLES = ("cited_in_deck", "attributed", "background")

CONFIDENCE = ("high", "medium", "low")

# restates: the same finding stated in another document (kb ingest suggests it for near-duplicates).
RELATIONS = ("part_of", "leads_to", "supports", "elaborates", "contrasts_with", "restates")

STUDY_DESIGNS = (
    "systematic_review",
    "meta_analysis",
    "rct",
    "cluster_rct",
    "non_randomised_trial",
    "cohort",
    "case_control",
    "cross_sectional",
    "longitudinal",
    "qualitative",
    "mixed_methods",
    "narrative_review",
    "report",
    "expert_opinion",
    "not_stated",
    "not_applicable",
)

DOCUMENT_KINDS = ("slide_deck", "report", "article", "book", "web_page", "other")
