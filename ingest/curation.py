"""A curator's decisions on candidates: accept one as a claim record, or reject it with a reason.

Accepting drafts the claim record from the candidate (quote, offsets, line and
slide already right; kind, statement, effect, topics, sources and relations as
suggested), lets the curator edit it, and writes it only if the whole KB still
passes `kb check` with it: the draft is validated in a scratch copy of the
curated folder first, so a record `kb check` would reject is never written.
"""

from __future__ import annotations

import datetime
import difflib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .candidate_files import candidate_file_path, dump_yaml, load_candidate_files, record_decision, write_atomically
from .documents import load_documents
from .effects import DESCRIPTIVE_METRICS, find_statistics
from .errors import Problems, ValidationFailed
from .intake import slugify
from .load import load_all
from .paths import bibliography_path, claims_dir, evidence_dir
from .vocabulary import CERTAINTY, RELATIONS

NEW_CLAIMS_FILE = "# Claims accepted from candidates; quote offsets are Python str offsets into the .txt.\ndocument: {document}\nclaims:\n"


class CurationError(Exception):
    """A decision that cannot be made; the message says why and what to do."""


@dataclass
class Draft:
    candidate_id: str
    document_id: str
    record: dict

    @property
    def text(self) -> str:
        return dump_yaml(self.record)


def find_candidate(root: Path, candidate_id: str) -> tuple[Path, dict, str]:
    """(candidate file, the candidate, its document id); raises CurationError for an unknown or decided one."""
    problems = Problems(root)
    files = load_candidate_files(root, problems)
    known = []
    for candidate_file in files:
        for record in candidate_file.candidates:
            known.append(record.id)
            if record.id != candidate_id:
                continue
            if record.status != "candidate":
                what = f"as claim {record.data.get('claim')!r}" if record.status == "accepted" else "with the reason"
                detail = "" if record.status == "accepted" else f" {record.data.get('reason')!r}"
                raise CurationError(
                    f"candidate {candidate_id!r} was already {record.status} {what}{detail} "
                    f"on {record.data.get('decided')}; nothing changed"
                )
            return candidate_file.path, record.data, candidate_file.document_id
    close = difflib.get_close_matches(candidate_id, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; list them with `kb candidates`"
    if problems and not known:
        hint = "; the candidate files have problems, run `kb check`"
    raise CurationError(f"unknown candidate {candidate_id!r}{hint}")


def draft_claim(
    root: Path,
    candidate_id: str,
    *,
    claim_id: str | None = None,
    topics: list[str] | None = None,
    certainty: str | None = None,
) -> Draft:
    """The claim record `kb accept` would write for this candidate."""
    root = Path(root)
    _, candidate, document_id = find_candidate(root, candidate_id)
    problems = Problems(root)
    documents = load_documents(root, problems)
    doc = documents.get(document_id)
    if doc is None:
        raise CurationError(
            f"candidate {candidate_id!r} belongs to document {document_id!r}, which is not in evidence/documents"
        )
    chosen_topics = list(topics or candidate.get("topics") or [])
    if not chosen_topics:
        raise CurationError(
            f"no topic was suggested for {candidate_id!r}: name one or more with --topic (see evidence/topics.yaml), or use --edit"
        )
    if certainty is not None and certainty not in CERTAINTY:
        raise CurationError(f"certainty {certainty!r} is not one of {', '.join(CERTAINTY)}")
    line = doc.line_of(candidate["char_start"])
    slide = doc.slide_at_line(line)
    record = {
        "id": claim_id or _claim_id(candidate["statement"], _existing_claim_ids(root)),
        "kind": candidate["kind"],
        "statement": candidate["statement"],
        "quote": {
            "text": candidate["quote"],
            "start": candidate["char_start"],
            "end": candidate["char_end"],
            "line": line,
            "slide": slide.heading if slide else doc.title,
        },
        "topics": chosen_topics,
    }
    effect = _effect(candidate["quote"])
    if effect:
        record["effect"] = effect
    record["certainty"] = certainty or "not_assessed"
    if record["certainty"] == "not_assessed":
        record["certainty_note"] = (
            "Accepted from an ingested candidate; the certainty of the evidence is not yet rated."
        )
    record["sources"] = _source_links(candidate.get("citations") or [])
    relations = [
        {"relation": s["relation"], "target": s["id"]}
        for s in candidate.get("similar_claims") or []
        if s.get("relation") in RELATIONS
    ]
    if relations:
        record["relations"] = relations
    record["provenance"] = {"candidate": candidate_id, "accepted": datetime.date.today().isoformat()}
    return Draft(candidate_id, document_id, record)


def parse_draft(text: str, draft: Draft) -> dict:
    """The curator's edited record: one YAML mapping; its provenance always names the candidate."""
    try:
        record = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise CurationError(f"the edited record is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(record, dict):
        raise CurationError("the edited record must be one YAML mapping (id, kind, statement, quote, ...)")
    record["provenance"] = {"candidate": draft.candidate_id, "accepted": datetime.date.today().isoformat()}
    return record


def accept(root: Path, draft: Draft, record: dict | None = None) -> str:
    """Write the claim record and mark the candidate accepted; raises CurationError if `kb check` would fail."""
    root = Path(root)
    record = record if record is not None else draft.record
    claims_file = claims_dir(root) / f"{draft.document_id}.yaml"
    new_text = _append_claim(claims_file, draft.document_id, record)
    _validate_in_scratch(root, claims_file, new_text, draft, record)
    write_atomically(claims_file, new_text)
    record_decision(
        candidate_file_path(root, draft.document_id), draft.candidate_id, status="accepted", claim=record["id"]
    )
    return record["id"]


def reject(root: Path, candidate_id: str, reason: str) -> None:
    if not reason or not reason.strip():
        raise CurationError("give the reason for rejecting it with --reason '...': it stays with the candidate")
    path, _, _ = find_candidate(root, candidate_id)
    record_decision(path, candidate_id, status="rejected", reason=reason.strip())


def _validate_in_scratch(root: Path, claims_file: Path, new_text: str, draft: Draft, record: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="kb-accept-") as scratch:
        scratch = Path(scratch)
        shutil.copytree(evidence_dir(root), scratch / "evidence", symlinks=False)
        shutil.copy2(bibliography_path(root), scratch / "citations.bib")
        target = scratch / claims_file.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(new_text, encoding="utf-8")
        record_decision(
            candidate_file_path(scratch, draft.document_id),
            draft.candidate_id,
            status="accepted",
            claim=str(record.get("id")),
        )
        try:
            load_all(scratch)
        except ValidationFailed as exc:
            lines = [str(p) for p in exc.problems]
            raise CurationError("not accepted: `kb check` would reject the record:\n  " + "\n  ".join(lines)) from None


def _append_claim(claims_file: Path, document_id: str, record: dict) -> str:
    """The claims file with the record appended: existing text is kept byte for byte."""
    if claims_file.exists():
        text = claims_file.read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
    else:
        text = NEW_CLAIMS_FILE.format(document=document_id)
    if text.rstrip().endswith("claims: []"):
        text = text.rstrip()[: -len("[]")].rstrip() + "\n"
    item = dump_yaml([record])
    indented = "".join(("  " + line if line.strip() else line) for line in item.splitlines(keepends=True))
    return text + "\n" + indented


def _existing_claim_ids(root: Path) -> set[str]:
    ids = set()
    for path in claims_dir(root).glob("*.yaml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for claim in data.get("claims") or [] if isinstance(data, dict) else []:
            if isinstance(claim, dict) and isinstance(claim.get("id"), str):
                ids.add(claim["id"])
    return ids


def _claim_id(statement: str, taken: set[str]) -> str:
    words = slugify(statement).split("-")
    base = "-".join(words[:8]) or "claim"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _effect(quote: str) -> dict | None:
    """The headline statistic of the quote, as a claim's `effect` (text as written, parsed fields explicit)."""
    for stat in find_statistics(quote):
        if stat.metric in DESCRIPTIVE_METRICS:
            continue
        return {
            "text": " ".join(stat.matched.split()),
            "metric": stat.metric,
            "value": stat.value,
            "direction": stat.direction,
        }
    return None


def _source_links(citations: list[dict]) -> list[dict]:
    links: dict[str, dict] = {}
    for cite in citations:
        key, score = cite.get("key"), float(cite.get("score") or 0)
        if not key or key in links:
            continue
        confidence = (
            "high" if score >= 0.9 and cite.get("where", "quote") == "quote" else "medium" if score >= 0.75 else "low"
        )
        # The document cites the work itself: that is the role the deck's own citations have.
        links[key] = {"key": key, "role": "cited_in_deck", "confidence": confidence}
    return list(links.values())
