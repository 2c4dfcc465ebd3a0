"""Curated claim records: read from YAML, checked field by field.

Every check reports the file, the line of the offending field, the record id
and the field name, and loading carries on so one `kb check` shows them all.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .effects import METRICS, VALUELESS_METRICS, direction_problem, parse_effect
from .errors import Problems
from .paths import claims_dir, outside_root
from .vocabulary import (
    CERTAINTY,
    CONFIDENCE,
    DIRECTIONS,
    KINDS,
    RELATIONS,
    SOURCE_ROLES,
    STUDY_DESIGNS,
)
from .yaml_lines import LineDict, YamlSyntaxError, load_yaml

# SQLite stores integers in 8 bytes; a larger one would fail the build, not kb check.
MAX_INTEGER = 2**63 - 1
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

CLAIM_FIELDS = {
    "id",
    "kind",
    "statement",
    "quote",
    "topics",
    "keywords",
    "pico",
    "effect",
    "source_effect",
    "discrepancy",
    "study",
    "certainty",
    "certainty_note",
    "sources",
    "items",
    "relations",
    "notes",
    "provenance",
}
REQUIRED_FIELDS = ("id", "kind", "statement", "quote", "topics", "certainty", "sources")
QUOTE_FIELDS = {"text", "start", "end", "line", "slide"}
PICO_FIELDS = {"population", "setting", "intervention", "comparator", "outcome"}
# Column order of the PICO parts in `claims` and in the search context.
PICO_ORDER = ("population", "setting", "intervention", "comparator", "outcome")
EFFECT_FIELDS = {"text", "metric", "value", "direction"}
# summary: the source's figure in the deck's few words ("34% lower annual charges"), what a headline shows
# when deck and source differ; `text` stays the source's verbatim words.
SOURCE_EFFECT_FIELDS = EFFECT_FIELDS | {"source", "location", "summary"}
SUMMARY_MAX_CHARS = 80
STUDY_FIELDS = {"design", "n_studies", "n_participants", "country"}
SOURCE_LINK_FIELDS = {"key", "role", "confidence", "locator", "note"}
ITEM_FIELDS = {"label", "detail"}
RELATION_FIELDS = {"relation", "target", "note"}
PROVENANCE_FIELDS = {"candidate", "accepted"}


@dataclass
class EffectSize:
    text: str | None
    metric: str | None
    value: float | None
    direction: str | None
    source: str | None = None
    location: str | None = None
    summary: str | None = None


@dataclass
class SourceLink:
    key: str
    role: str
    confidence: str
    locator: str | None
    note: str | None
    line: int


@dataclass
class Relation:
    relation: str
    target: str
    note: str | None
    line: int


@dataclass
class Claim:
    id: str
    kind: str
    statement: str
    document_id: str
    quote: str
    char_start: int
    char_end: int
    line_start: int
    slide_heading: str
    topics: list[str]
    certainty: str
    file: Path
    line: int
    keywords: list[str] = field(default_factory=list)
    pico: dict[str, str] = field(default_factory=dict)
    effect: EffectSize | None = None
    source_effect: EffectSize | None = None
    discrepancy: str | None = None
    study: dict = field(default_factory=dict)
    certainty_note: str | None = None
    sources: list[SourceLink] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    notes: str | None = None
    provenance: dict | None = None  # {candidate, accepted} when kb accept made this record
    raw: LineDict | None = None

    def to_row(self, doc, backing: list, topic_labels: list[str], citation: str | None, root: Path) -> dict:
        """The `claims` row for this record: doc is its Document, backing the Sources it rests on."""
        slide = doc.slide_at_line(self.line_start)
        years = [s.year for s in backing if s.year]
        effect, source_effect = self.effect, self.source_effect
        items_text = "\n".join(f"{i['label']}: {i['detail']}" if i.get("detail") else i["label"] for i in self.items)
        pico = {k: self.pico.get(k) for k in PICO_ORDER}
        context = " | ".join(
            filter(None, [*pico.values(), self.slide_heading, ", ".join(topic_labels), effect.text if effect else None])
        )
        return {
            "id": self.id,
            "kind": self.kind,
            "statement": self.statement,
            "quote": self.quote,
            "document_id": self.document_id,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "line_start": self.line_start,
            "line_end": doc.line_of(max(self.char_end - 1, self.char_start)),
            "slide_number": slide.number if slide else None,
            "slide_heading": self.slide_heading,
            **pico,
            **_effect_columns("effect", effect),
            **_effect_columns("source_effect", source_effect),
            "source_effect_source": source_effect.source if source_effect else None,
            "source_effect_location": source_effect.location if source_effect else None,
            "source_effect_summary": source_effect.summary if source_effect else None,
            "effect_status": effect_status(self),
            "discrepancy": self.discrepancy,
            "study_design": self.study.get("design"),
            "n_studies": self.study.get("n_studies"),
            "n_participants": self.study.get("n_participants"),
            "country": self.study.get("country"),
            "certainty": self.certainty,
            "certainty_note": self.certainty_note,
            "year": min(years) if years else None,
            "topics": json.dumps(self.topics),
            "keywords": json.dumps(self.keywords, ensure_ascii=False),
            "items_text": items_text or None,
            "context": context,
            "citations": citation,
            "source_keys": json.dumps([s.key for s in backing]),
            "notes": self.notes,
            "record_file": str(Path(self.file).resolve().relative_to(Path(root).resolve())),
            "record_line": self.line,
            "candidate_id": self.provenance["candidate"] if self.provenance else None,
            "accepted_on": self.provenance["accepted"] if self.provenance else None,
        }


def _effect_columns(prefix: str, effect: EffectSize | None) -> dict:
    return {
        f"{prefix}_{name}": getattr(effect, name) if effect else None
        for name in ("text", "metric", "value", "direction")
    }


def effect_status(claim: Claim) -> str | None:
    # A discrepancy can concern a claim with no figure in the deck ("large
    # improvements" where the source reports moderate ones), so it wins.
    if claim.discrepancy:
        return "discrepant"
    if claim.effect is None:
        return None
    if claim.source_effect is None:
        return "unchecked"
    return "consistent"


class _Checker:
    """Type checks for one record, each reporting the exact line of the field."""

    def __init__(self, problems: Problems, file: Path, record: str | None):
        self.problems, self.file, self.record = problems, file, record

    def add(self, line, field_name, message):
        self.problems.add(self.file, line, field_name, message, record=self.record)

    def unknown(self, mapping: LineDict, allowed: set, prefix: str = "") -> None:
        for key in mapping:
            if key not in allowed:
                self.add(
                    mapping.line_of(key), prefix + str(key), f"unknown field (allowed: {', '.join(sorted(allowed))})"
                )

    def string(self, mapping: LineDict, key: str, prefix: str = "", required=False) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.add(mapping.line, prefix + key, "required field is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(mapping.line_of(key), prefix + key, f"must be a non-empty string, got {_describe(value)}")
            return None
        return value

    def integer(self, mapping: LineDict, key: str, prefix: str = "", required=False, minimum=None) -> int | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.add(mapping.line, prefix + key, "required field is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(mapping.line_of(key), prefix + key, f"must be an integer, got {_describe(value)}")
            return None
        if not -MAX_INTEGER <= value <= MAX_INTEGER:
            self.add(mapping.line_of(key), prefix + key, f"must be at most {MAX_INTEGER:,} (SQLite's integer range)")
            return None
        if minimum is not None and value < minimum:
            self.add(mapping.line_of(key), prefix + key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def number(self, mapping: LineDict, key: str, prefix: str = "") -> float | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(mapping.line_of(key), prefix + key, f"must be a number, got {_describe(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self.add(mapping.line_of(key), prefix + key, f"must be a finite number, got {_describe(value)}")
            return None
        return number

    def choice(self, mapping: LineDict, key: str, allowed, prefix: str = "", required=False) -> str | None:
        value = self.string(mapping, key, prefix, required)
        if value is not None and value not in allowed:
            self.add(mapping.line_of(key), prefix + key, f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return value

    def mapping(self, parent: LineDict, key: str, required=False) -> LineDict | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(parent.line, key, "required field is missing")
            return None
        if not isinstance(value, LineDict):
            self.add(parent.line_of(key), key, f"must be a mapping, got {_describe(value)}")
            return None
        return value

    def sequence(self, parent: LineDict, key: str, required=False) -> list | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(parent.line, key, "required field is missing")
            return None
        if not isinstance(value, list):
            self.add(parent.line_of(key), key, f"must be a list, got {_describe(value)}")
            return None
        return value


def _describe(value) -> str:
    if isinstance(value, (dict, list)):
        return type(value).__name__
    return f"{type(value).__name__} {value!r}"


def load_claim_files(root: Path, problems: Problems) -> list[tuple[Path, str | None, list[LineDict]]]:
    """Parse each claims file; returns (file, document id, raw records)."""
    loaded = []
    for path in sorted(claims_dir(root).glob("*.yaml")):
        escape = outside_root(path, root)
        if escape:
            problems.add(path, None, None, escape)
            continue
        try:
            data = load_yaml(path)
        except YamlSyntaxError as exc:
            problems.add(path, exc.line, None, exc.message)
            continue
        if not isinstance(data, LineDict):
            problems.add(path, 1, None, "expected a mapping with `document` and `claims`")
            continue
        check = _Checker(problems, path, None)
        check.unknown(data, {"document", "claims"})
        document = check.string(data, "document", required=True)
        records = check.sequence(data, "claims", required=True) or []
        good = []
        for record in records:
            if not isinstance(record, LineDict):
                problems.add(
                    path,
                    getattr(records, "line", None),
                    "claims",
                    f"each claim must be a mapping, got {_describe(record)}",
                )
                continue
            good.append(record)
        loaded.append((path, document, good))
    return loaded


def parse_claim(raw: LineDict, file: Path, document_id: str, problems: Problems) -> Claim | None:
    """One claim record, every field checked; None (with problems added) when it is not usable."""
    record_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    check = _Checker(problems, file, record_id)
    check.unknown(raw, CLAIM_FIELDS)
    before = len(problems.items)

    claim_id = check.string(raw, "id", required=True)
    if claim_id is not None and not SLUG_RE.match(claim_id):
        check.add(raw.line_of("id"), "id", f"{claim_id!r} is not a slug (lowercase letters, digits and single hyphens)")
    kind = check.choice(raw, "kind", KINDS, required=True)
    statement = check.string(raw, "statement", required=True)
    certainty = check.choice(raw, "certainty", CERTAINTY, required=True)
    certainty_note = check.string(raw, "certainty_note")
    discrepancy = check.string(raw, "discrepancy")
    notes = check.string(raw, "notes")
    quote = _quote(check, raw)
    topics = _string_list(check, raw, "topics", required=True, non_empty=True)
    keywords = _string_list(check, raw, "keywords") or []
    pico = _pico(check, raw)
    effect = _effect(check, raw, "effect", EFFECT_FIELDS)
    source_effect = _effect(check, raw, "source_effect", SOURCE_EFFECT_FIELDS)
    study = _study(check, raw)
    sources = _source_links(check, raw)
    items = _items(check, raw)
    relations = _relations(check, raw)
    provenance = _provenance(check, raw)

    if (
        len(problems.items) > before
        or None in (claim_id, kind, statement, certainty, topics)
        or quote is None
        or None in quote.values()
    ):
        return None
    return Claim(
        id=claim_id,
        kind=kind,
        statement=statement.strip(),
        document_id=document_id,
        quote=quote["text"],
        char_start=quote["start"],
        char_end=quote["end"],
        line_start=quote["line"],
        slide_heading=quote["slide"],
        topics=topics,
        certainty=certainty,
        certainty_note=certainty_note,
        file=file,
        line=raw.line,
        keywords=keywords,
        pico=pico,
        effect=effect,
        source_effect=source_effect,
        discrepancy=discrepancy.strip() if discrepancy else None,
        study=study,
        sources=sources,
        items=items,
        relations=relations,
        notes=notes,
        provenance=provenance,
        raw=raw,
    )


def _quote(check: _Checker, raw: LineDict) -> dict | None:
    quote = check.mapping(raw, "quote", required=True)
    if quote is None:
        return None
    check.unknown(quote, QUOTE_FIELDS, "quote.")
    return {
        "text": check.string(quote, "text", "quote.", required=True),
        "start": check.integer(quote, "start", "quote.", required=True, minimum=0),
        "end": check.integer(quote, "end", "quote.", required=True, minimum=0),
        "line": check.integer(quote, "line", "quote.", required=True, minimum=1),
        "slide": check.string(quote, "slide", "quote.", required=True),
    }


def _pico(check: _Checker, raw: LineDict) -> dict[str, str]:
    pico_raw = check.mapping(raw, "pico")
    if pico_raw is None:
        return {}
    check.unknown(pico_raw, PICO_FIELDS, "pico.")
    values = {key: check.string(pico_raw, key, "pico.") for key in PICO_FIELDS}
    return {key: value for key, value in values.items() if value}


def _study(check: _Checker, raw: LineDict) -> dict:
    study_raw = check.mapping(raw, "study")
    if study_raw is None:
        return {}
    check.unknown(study_raw, STUDY_FIELDS, "study.")
    return {
        "design": check.choice(study_raw, "design", STUDY_DESIGNS, "study."),
        "n_studies": check.integer(study_raw, "n_studies", "study.", minimum=1),
        "n_participants": check.integer(study_raw, "n_participants", "study.", minimum=1),
        "country": check.string(study_raw, "country", "study."),
    }


def _mappings(check: _Checker, raw: LineDict, key: str, what: str, required=False) -> list[LineDict]:
    """The entries of a list-of-mappings field; any other entry is reported."""
    good = []
    for entry in check.sequence(raw, key, required=required) or []:
        if isinstance(entry, LineDict):
            good.append(entry)
        else:
            check.add(raw.line_of(key), key, f"each {what}, got {_describe(entry)}")
    return good


def _source_links(check: _Checker, raw: LineDict) -> list[SourceLink]:
    links = []
    for link in _mappings(check, raw, "sources", "source link must be a mapping", required=True):
        check.unknown(link, SOURCE_LINK_FIELDS, "sources.")
        key = check.string(link, "key", "sources.", required=True)
        role = check.choice(link, "role", SOURCE_ROLES, "sources.", required=True)
        confidence = check.choice(link, "confidence", CONFIDENCE, "sources.", required=True)
        locator = check.string(link, "locator", "sources.")
        note = check.string(link, "note", "sources.")
        if key and role and confidence:
            links.append(SourceLink(key, role, confidence, locator, note, link.line))
    return links


def _items(check: _Checker, raw: LineDict) -> list[dict]:
    items = []
    for item in _mappings(check, raw, "items", "item must be a mapping with label and detail"):
        check.unknown(item, ITEM_FIELDS, "items.")
        label = check.string(item, "label", "items.", required=True)
        if label:
            items.append({"label": label, "detail": check.string(item, "detail", "items.")})
    return items


def _relations(check: _Checker, raw: LineDict) -> list[Relation]:
    relations = []
    for rel in _mappings(check, raw, "relations", "relation must be a mapping"):
        check.unknown(rel, RELATION_FIELDS, "relations.")
        relation = check.choice(rel, "relation", RELATIONS, "relations.", required=True)
        target = check.string(rel, "target", "relations.", required=True)
        if relation and target:
            relations.append(Relation(relation, target, check.string(rel, "note", "relations."), rel.line))
    return relations


def _provenance(check: _Checker, raw: LineDict) -> dict | None:
    """Where an accepted candidate came from: `{candidate: ID, accepted: YYYY-MM-DD}` (kb accept writes it)."""
    provenance = check.mapping(raw, "provenance")
    if provenance is None:
        return None
    check.unknown(provenance, PROVENANCE_FIELDS, "provenance.")
    candidate = check.string(provenance, "candidate", "provenance.", required=True)
    accepted = provenance.get("accepted")
    if accepted is None:
        check.add(provenance.line, "provenance.accepted", "required field is missing")
        return None
    if not isinstance(accepted, (str, datetime.date)) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(accepted)):
        check.add(
            provenance.line_of("accepted"),
            "provenance.accepted",
            f"must be a date YYYY-MM-DD, got {_describe(accepted)}",
        )
        return None
    return {"candidate": candidate, "accepted": str(accepted)}


def _string_list(check: _Checker, raw: LineDict, key: str, required=False, non_empty=False) -> list[str] | None:
    values = check.sequence(raw, key, required=required)
    if values is None:
        return None
    if non_empty and not values:
        check.add(raw.line_of(key), key, "must list at least one entry")
        return None
    out = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            check.add(raw.line_of(key), key, f"entries must be non-empty strings, got {_describe(value)}")
            return None
        out.append(value)
    return out


def _effect(check: _Checker, raw: LineDict, key: str, allowed: set) -> EffectSize | None:
    mapping = check.mapping(raw, key)
    if mapping is None:
        return None
    check.unknown(mapping, allowed, key + ".")
    text = check.string(mapping, "text", key + ".")
    metric = check.choice(mapping, "metric", METRICS, key + ".")
    value = check.number(mapping, "value", key + ".")
    direction = check.choice(mapping, "direction", DIRECTIONS, key + ".")
    valueless = metric in VALUELESS_METRICS
    parsed = parse_effect(text) if text and not valueless else None
    if valueless and value is not None:
        check.add(mapping.line_of("value"), key + ".value", f"a {metric} has no value; leave `value` out")
        return None
    if parsed:
        # The curated file may override any part of what the parser read.
        metric = metric or parsed.metric
        value = parsed.value if value is None else value
        direction = direction or parsed.direction
    if metric is None or (value is None and not valueless) or direction is None:
        needed = (("metric", metric), ("value", 0 if valueless else value), ("direction", direction))
        missing = [n for n, v in needed if v is None]
        hint = f"could not parse an effect size from {text!r}; " if text else ""
        check.add(mapping.line, key, f"{hint}give {', '.join(missing)} explicitly")
        return None
    problem = direction_problem(metric, value, direction)
    if problem:
        check.add(
            mapping.line_of("direction") if "direction" in mapping else mapping.line,
            key + ".direction",
            f"direction contradicts value: {problem}",
        )
        return None
    stated = {"increase", "decrease"}
    # Only a short phrase ("30% lower mortality") says one direction outright; a sentence from a
    # source may compare the other way round ("charges of $1,435 … 51.3 percent more" for less care).
    short = text is not None and len(text.split()) <= 12
    if short and parsed and direction in stated and parsed.direction in stated and direction != parsed.direction:
        check.add(
            mapping.line_of("direction"),
            key + ".direction",
            f"the text {text!r} says {parsed.direction}, but direction is {direction}",
        )
        return None
    source = check.string(mapping, "source", key + ".") if "source" in allowed else None
    location = check.string(mapping, "location", key + ".") if "location" in allowed else None
    summary = check.string(mapping, "summary", key + ".") if "summary" in allowed else None
    if summary is not None and len(summary) > SUMMARY_MAX_CHARS:
        check.add(
            mapping.line_of("summary"),
            key + ".summary",
            f"{len(summary)} characters; a headline figure is at most {SUMMARY_MAX_CHARS} (the source's words go in `text`)",
        )
        return None
    return EffectSize(text, metric, value, direction, source, location, summary)
