"""Choose the claims to cite, and the sources they rest on, from the database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ingest.db import DatabaseNotFound, open_database
from ingest.schema import json_list

from .csl import missing_fields


class SelectionError(Exception):
    """A selection that cannot be exported; the message says why, for people."""


class UnknownClaims(SelectionError):
    def __init__(self, ids: Sequence[str]):
        self.ids = list(ids)
        listed = ", ".join(self.ids)
        super().__init__(f"Unknown claim id{'s' if len(self.ids) > 1 else ''}: {listed}")


class UnknownTopic(SelectionError):
    def __init__(self, topic: str, known: Sequence[str]):
        self.topic = topic
        super().__init__(f"Unknown topic: {topic}. Known topics: {', '.join(known)}")


class EmptySelection(SelectionError):
    pass


@dataclass
class Selection:
    """Claims in the order chosen, and every source they cite, each once."""

    claims: list[dict]
    sources: list[dict]
    notices: list[str] = field(default_factory=list)
    # topic id -> label, for exports that name topics (the PPTX evidence map's rows and columns).
    topic_labels: dict[str, str] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """What a trainer should know before using the export (printed on stderr)."""
        out = []
        for source in self.sources:
            missing = missing_fields(source)
            if missing:
                out.append(f"source {source['key']} is missing: {', '.join(missing)}")
        unsourced = [claim["id"] for claim in self.claims if not cited_keys(claim)]
        if unsourced:
            many = len(unsourced) > 1
            out.append(
                f"{len(unsourced)} claim{'s' if many else ''} ha{'ve' if many else 's'} no cited source "
                f"and {'are' if many else 'is'} exported without a citation: {', '.join(unsourced)}"
            )
        return out


def open_db(db):
    """ingest.db.open_database, with a missing file reported as a SelectionError."""
    try:
        return open_database(db)
    except DatabaseNotFound:
        raise SelectionError(f"Database not found: {os.fspath(db)} (run `kb build` first)") from None


def cited_keys(claim: Mapping) -> list[str]:
    """The sources a claim rests on (cited in the deck or attributed), in order."""
    return [k for k in json_list(claim.get("source_keys")) if k]


def referenced_keys(claim: Mapping) -> list[str]:
    """Every source an export of this claim mentions: its cited sources, plus
    the source its figure was checked against when a footnote cites that."""
    keys = cited_keys(claim)
    checked = claim.get("source_effect_source")
    if checked and claim.get("discrepancy") and checked not in keys:
        keys.append(checked)
    return keys


def _rows_in_order(db, table: str, column: str, values: Iterable[str]) -> tuple[list[dict], list[str]]:
    """Rows whose `column` is in values, in the order asked (each once), and the values not found."""
    db = open_db(db)
    values = list(dict.fromkeys(values))
    if not values:
        return [], []
    placeholders = ", ".join("?" for _ in values)
    rows = {r[column]: r for r in db.query(f"select * from {table} where {column} in ({placeholders})", values)}
    return [rows[v] for v in values if v in rows], [v for v in values if v not in rows]


def claims_by_id(db, ids: Iterable[str]) -> list[dict]:
    """Claim rows in the order asked; raises UnknownClaims listing every bad id."""
    rows, unknown = _rows_in_order(db, "claims", "id", ids)
    if unknown:
        raise UnknownClaims(unknown)
    return rows


def claim_ids_for_topic(db, topic: str) -> list[str]:
    db = open_db(db)
    known = [r["id"] for r in db.query("select id from topics order by id")]
    if topic not in known:
        raise UnknownTopic(topic, known)
    return [
        r["id"]
        for r in db.query(
            "select c.id from claims c join claim_topics t on t.claim_id = c.id "
            "where t.topic_id = ? order by c.document_id, c.char_start",
            [topic],
        )
    ]


def all_claim_ids(db) -> list[str]:
    return [r["id"] for r in open_db(db).query("select id from claims order by document_id, char_start")]


def sources_for_claims(db, claims: Iterable[Mapping]) -> list[dict]:
    """Source rows for everything these claims cite, in order of first mention."""
    keys = list(dict.fromkeys(k for claim in claims for k in referenced_keys(claim)))
    return sources_by_key(db, keys)


def sources_by_key(db, keys: Iterable[str]) -> list[dict]:
    rows, missing = _rows_in_order(db, "sources", "key", keys)
    if missing:
        raise SelectionError(f"Claims cite sources that are not in the database: {', '.join(missing)}")
    return rows


def _default_search(db, query: str, k: int):
    # Imported here so that `kb cite --claim` works without the search stack.
    from search import SearchError, search

    try:
        return search(db, query, k=k)
    except SearchError as exc:
        raise SelectionError(f"Search failed: {exc}") from exc


def select(
    db,
    *,
    claim_ids: Iterable[str] = (),
    query: str | None = None,
    k: int = 5,
    topic: str | None = None,
    all_claims: bool = False,
    searcher: Callable | None = None,
) -> Selection:
    """The union of the selectors, in this order: the ids as given, search hits
    by rank, the topic's claims and then all claims in deck order.

    Raises UnknownClaims / UnknownTopic for bad names and EmptySelection when
    nothing was asked for or nothing matched.
    """
    claim_ids = list(claim_ids)
    if not (claim_ids or query or topic or all_claims):
        raise EmptySelection("Nothing selected: give --claim ID, --query TEXT, --topic TOPIC or --all.")
    # One connection for everything, search included (it finds the index from the connection's file).
    database = open_db(db)
    ordered: list[str] = []
    ordered += [c["id"] for c in claims_by_id(database, claim_ids)]
    notices: list[str] = []
    if query:
        results = (searcher or _default_search)(database, query, k)
        notices += list(getattr(results, "notices", []) or [])
        hits = [r.id if hasattr(r, "id") else r["id"] for r in results]
        if not hits:
            notices.append(f"No claims matched the query {query!r}.")
        ordered += hits
    if topic:
        ids = claim_ids_for_topic(database, topic)
        if not ids:
            notices.append(f"Topic {topic!r} has no claims.")
        ordered += ids
    if all_claims:
        ordered += all_claim_ids(database)
    ordered = list(dict.fromkeys(ordered))
    if not ordered:
        raise EmptySelection(" ".join(notices) or "No claims selected.")
    claims = claims_by_id(database, ordered)
    labels = {r["id"]: r["label"] for r in database.query("select id, label from topics")}
    return Selection(claims, sources_for_claims(database, claims), notices, labels)
