"""Curated claim records: read from YAML, checked field by field.

Every check reports the file, the line of the offending field, the record id
and the field name, and loading carries on so one `kb check` shows them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .effects import METRICS, direction_problem, parse_effect
from .errors import Problems
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
}
REQUIRED_FIELDS = ("id", "kind", "statement", "quote", "topics", "certainty", "sources")
QUOTE_FIELDS = {"text", "start", "end", "line", "slide"}
PICO_FIELDS = {"population", "setting", "intervention", "comparator", "outcome"}
EFFECT_FIELDS = {"text", "metric", "value", "direction"}
SOURCE_EFFECT_FIELDS = EFFECT_FIELDS | {"source", "location"}
STUDY_FIELDS = {"design", "n_studies", "n_participants", "country"}
SOURCE_LINK_FIELDS = {"key", "role", "confidence", "locator", "note"}
ITEM_FIELDS = {"label", "detail"}
RELATION_FIELDS = {"relation", "target", "note"}


@dataclass
class EffectSize:
    text: str | None
    metric: str | None
    value: float | None
    direction: str | None
    source: str | None = None
    location: str | None = None


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
    raw: LineDict | None = None


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
        return float(value)

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
    for path in sorted((Path(root) / "evidence" / "claims").glob("*.yaml")):
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
    discrepancy = raw.get("discrepancy")
    if discrepancy is not None:
        discrepancy = check.string(raw, "discrepancy")
    notes = check.string(raw, "notes")

    quote = check.mapping(raw, "quote", required=True)
    q = {}
    if quote is not None:
        check.unknown(quote, QUOTE_FIELDS, "quote.")
        q["text"] = check.string(quote, "text", "quote.", required=True)
        q["start"] = check.integer(quote, "start", "quote.", required=True, minimum=0)
        q["end"] = check.integer(quote, "end", "quote.", required=True, minimum=0)
        q["line"] = check.integer(quote, "line", "quote.", required=True, minimum=1)
        q["slide"] = check.string(quote, "slide", "quote.", required=True)

    topics = _string_list(check, raw, "topics", required=True, non_empty=True)
    keywords = _string_list(check, raw, "keywords") or []

    pico = {}
    pico_raw = check.mapping(raw, "pico")
    if pico_raw is not None:
        check.unknown(pico_raw, PICO_FIELDS, "pico.")
        for key in PICO_FIELDS:
            value = check.string(pico_raw, key, "pico.")
            if value:
                pico[key] = value

    effect = _effect(check, raw, "effect", EFFECT_FIELDS)
    source_effect = _effect(check, raw, "source_effect", SOURCE_EFFECT_FIELDS)

    study = {}
    study_raw = check.mapping(raw, "study")
    if study_raw is not None:
        check.unknown(study_raw, STUDY_FIELDS, "study.")
        study["design"] = check.choice(study_raw, "design", STUDY_DESIGNS, "study.")
        study["n_studies"] = check.integer(study_raw, "n_studies", "study.", minimum=1)
        study["n_participants"] = check.integer(study_raw, "n_participants", "study.", minimum=1)
        study["country"] = check.string(study_raw, "country", "study.")

    sources = []
    for link in check.sequence(raw, "sources", required=True) or []:
        if not isinstance(link, LineDict):
            check.add(raw.line_of("sources"), "sources", f"each source link must be a mapping, got {_describe(link)}")
            continue
        check.unknown(link, SOURCE_LINK_FIELDS, "sources.")
        key = check.string(link, "key", "sources.", required=True)
        role = check.choice(link, "role", SOURCE_ROLES, "sources.", required=True)
        confidence = check.choice(link, "confidence", CONFIDENCE, "sources.", required=True)
        if key and role and confidence:
            sources.append(
                SourceLink(
                    key,
                    role,
                    confidence,
                    check.string(link, "locator", "sources."),
                    check.string(link, "note", "sources."),
                    link.line,
                )
            )

    items = []
    for item in check.sequence(raw, "items") or []:
        if not isinstance(item, LineDict):
            check.add(
                raw.line_of("items"),
                "items",
                f"each item must be a mapping with label and detail, got {_describe(item)}",
            )
            continue
        check.unknown(item, ITEM_FIELDS, "items.")
        label = check.string(item, "label", "items.", required=True)
        if label:
            items.append({"label": label, "detail": check.string(item, "detail", "items.")})

    relations = []
    for rel in check.sequence(raw, "relations") or []:
        if not isinstance(rel, LineDict):
            check.add(raw.line_of("relations"), "relations", f"each relation must be a mapping, got {_describe(rel)}")
            continue
        check.unknown(rel, RELATION_FIELDS, "relations.")
        relation = check.choice(rel, "relation", RELATIONS, "relations.", required=True)
        target = check.string(rel, "target", "relations.", required=True)
        if relation and target:
            relations.append(Relation(relation, target, check.string(rel, "note", "relations."), rel.line))

    if (
        len(problems.items) > before
        or None in (claim_id, kind, statement, certainty, topics)
        or quote is None
        or None in q.values()
    ):
        return None
    return Claim(
        id=claim_id,
        kind=kind,
        statement=statement.strip(),
        document_id=document_id,
        quote=q["text"],
        char_start=q["start"],
        char_end=q["end"],
        line_start=q["line"],
        slide_heading=q["slide"],
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
        raw=raw,
    )


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
    parsed = parse_effect(text) if text else None
    if parsed:
        # The curated file may override any part of what the parser read.
        metric = metric or parsed.metric
        value = parsed.value if value is None else value
        direction = direction or parsed.direction
    if metric is None or value is None or direction is None:
        missing = [n for n, v in (("metric", metric), ("value", value), ("direction", direction)) if v is None]
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
    source = check.string(mapping, "source", key + ".") if "source" in allowed else None
    location = check.string(mapping, "location", key + ".") if "location" in allowed else None
    return EffectSize(text, metric, value, direction, source, location)
