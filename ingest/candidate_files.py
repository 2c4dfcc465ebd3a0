"""Candidate files: `evidence/candidates/<document>.yaml`, what `kb ingest` proposed and what curators decided.

A candidate is never evidence. It becomes a claim only when a curator accepts
it (`kb accept`), which writes the claim record and marks the candidate
`accepted` with the claim's id; `kb reject` marks it `rejected` with a reason.
Both decisions stay in the file, so re-running an ingest or reviewing a
document later shows what was already decided and why.

Each candidate is stored as the JSON contract of `kb ingest --json` (see
docs/ingest.md) plus its decision: `status`, and `claim` / `reason` / `decided`.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import Problems
from .paths import candidates_dir
from .yaml_lines import LineDict, YamlSyntaxError, load_yaml

STATUSES = ("candidate", "accepted", "rejected")
HEADER = (
    "# Candidate claims proposed by `kb ingest`. None of them is evidence until a curator decides:\n"
    "#   kb accept CANDIDATE_ID [--edit]     kb reject CANDIDATE_ID --reason '...'\n"
    "# Quotes are verbatim at their offsets in evidence/documents/{document}.txt; do not edit them by hand.\n"
)


@dataclass
class CandidateRecord:
    id: str
    status: str
    data: dict  # the stored mapping, contract fields and decision fields alike
    file: Path
    line: int
    document_id: str

    @property
    def quote(self) -> str:
        return self.data.get("quote") or ""


@dataclass
class CandidateFile:
    path: Path
    document_id: str
    source_file: str | None
    candidates: list[CandidateRecord]


def candidate_file_path(root: Path, document_id: str) -> Path:
    return candidates_dir(root) / f"{document_id}.yaml"


def load_candidate_files(root: Path, problems: Problems, documents: dict | None = None) -> list[CandidateFile]:
    """Every candidate file under root, checked; problems name file, line, candidate and field."""
    folder = candidates_dir(root)
    files = []
    seen: dict[str, tuple[Path, int]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        loaded = _load_file(path, problems, documents, seen)
        if loaded is not None:
            files.append(loaded)
    return files


def _load_file(path: Path, problems: Problems, documents, seen) -> CandidateFile | None:
    try:
        data = load_yaml(path)
    except YamlSyntaxError as exc:
        problems.add(path, exc.line, None, exc.message)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, None, None, f"cannot read the candidate file: {exc}")
        return None
    if not isinstance(data, LineDict):
        problems.add(path, 1, None, "expected a mapping with `document` and `candidates`")
        return None
    for key in data:
        if key not in ("document", "source_file", "candidates"):
            problems.add(
                path, data.line_of(key), str(key), "unknown field (allowed: candidates, document, source_file)"
            )
    document_id = data.get("document")
    if not isinstance(document_id, str) or not document_id:
        problems.add(path, data.line, "document", "required field is missing")
        return None
    doc = (documents or {}).get(document_id)
    if documents is not None and doc is None:
        problems.add(path, data.line_of("document"), "document", f"unknown document {document_id!r}")
    entries = data.get("candidates")
    if not isinstance(entries, list):
        problems.add(path, data.line_of("candidates"), "candidates", "must be a list")
        return None
    records = []
    for entry in entries:
        record = _check_candidate(entry, path, document_id, doc, problems, seen)
        if record is not None:
            records.append(record)
    return CandidateFile(path, document_id, data.get("source_file"), records)


def _check_candidate(entry, path: Path, document_id: str, doc, problems: Problems, seen) -> CandidateRecord | None:
    line = getattr(entry, "line", None)
    if not isinstance(entry, LineDict):
        problems.add(path, line, "candidates", "each candidate must be a mapping")
        return None
    cid = entry.get("id")
    if not isinstance(cid, str) or not cid:
        problems.add(path, entry.line, "id", "required field is missing")
        return None

    def add(key, message):
        problems.add(path, entry.line_of(key), key, message, record=cid)

    if cid in seen:
        first_path, first_line = seen[cid]
        add("id", f"duplicate candidate id (first at {problems.rel(first_path)}:{first_line})")
        return None
    seen[cid] = (path, entry.line)
    status = entry.get("status")
    if status not in STATUSES:
        add("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        return None
    quote, start, end = entry.get("quote"), entry.get("char_start"), entry.get("char_end")
    if not isinstance(quote, str) or not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        add("quote", "needs the verbatim quote text with integer char_start and char_end")
        return None
    if doc is not None and doc.text[start:end] != quote:
        add("quote", f"is not the document's text at {start}-{end}: the candidate file or the document was edited")
        return None
    if status == "rejected" and not (isinstance(entry.get("reason"), str) and entry["reason"].strip()):
        add("reason", "a rejected candidate keeps the reason it was rejected")
    if status == "accepted" and not isinstance(entry.get("claim"), str):
        add("claim", "an accepted candidate names the claim it became")
    return CandidateRecord(cid, status, dict(entry), path, entry.line, document_id)


def write_candidate_file(path: Path, document_id: str, source_file: str | None, candidates: list[dict]) -> None:
    """Write (atomically: temp file + rename) a whole candidate file."""
    body = {"document": document_id, "source_file": source_file, "candidates": candidates}
    text = HEADER.format(document=document_id) + dump_yaml(body)
    write_atomically(path, text)


def dump_yaml(data) -> str:
    # Block style, keys in contract order, unicode as it is; width large so quotes stay on one line each.
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100_000, default_flow_style=False)


def write_atomically(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def record_decision(path: Path, candidate_id: str, **decision) -> None:
    """Set a candidate's status and decision fields, keeping the rest of the file as it is."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for entry in data["candidates"]:
        if entry.get("id") == candidate_id:
            entry.update(decision, decided=datetime.date.today().isoformat())
            break
    else:
        raise KeyError(candidate_id)
    write_candidate_file(path, data["document"], data.get("source_file"), data["candidates"])
