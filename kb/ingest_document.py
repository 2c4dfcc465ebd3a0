"""`kb ingest`: a document in, candidate claims out, linked to the sources and to the claims already in the KB.

The data layer reads the file and proposes candidates (ingest.intake); the
search layer finds the built KB's claims that say the same thing
(search.similar). Without a built KB the candidates are still proposed, with
a notice that near-duplicates were not looked for.
"""

from __future__ import annotations

from pathlib import Path

from ingest.intake import IngestPlan, plan_ingest, write_ingest
from search.errors import SearchError


def ingest_document(
    path: Path,
    root: Path,
    db_path: Path,
    *,
    document_id: str | None = None,
    title: str | None = None,
    dry_run: bool = False,
) -> IngestPlan:
    """Plan the ingest, link near-duplicates, and write it unless dry_run; raises ingest.intake.IngestError."""
    plan = plan_ingest(path, root, document_id=document_id, title=title)
    _link_similar_claims(plan, db_path)
    if not dry_run:
        write_ingest(plan)
    return plan


def _link_similar_claims(plan: IngestPlan, db_path: Path) -> None:
    from search.similar import Figure, similar_claims

    if not plan.candidates:
        return
    if not Path(db_path).is_file():
        plan.notices.append(f"{db_path} is not built, so claims already in the KB were not compared: run `kb build`")
        return
    figures = [
        [Figure(s["metric"], s["value"], s["direction"]) for s in c.statistics if s.get("value") is not None]
        for c in plan.candidates
    ]
    try:
        found = similar_claims(db_path, [c.statement for c in plan.candidates], figures)
    except SearchError as exc:
        plan.notices.append(f"claims already in the KB were not compared: {exc}")
        return
    for candidate, similar in zip(plan.candidates, found):
        candidate.similar_claims = similar
