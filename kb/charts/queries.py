"""The SQL behind every chart, and the rows it returns.

Each chart is drawn from exactly one SQL statement, run to the end (no page
limit). The same text is what the pages link to as "the data behind this
chart" (Datasette's /<db>?sql=… with the filters as named parameters), so a
reader can check every bubble and point against the rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingest.effects import RATIO_METRICS
from ingest.schema import json_list

from .axes import CERTAINTY_ORDER, EXPOSURE_TOPICS, OTHER_EXPOSURE, OTHER_OUTCOME, OUTCOME_TOPICS, cells_of, layer_of

MAP_FILTERS = ("kind", "study_design", "document", "year_min", "year_max", "topic")


class ChartError(ValueError):
    """Bad chart input (an unknown filter value, a year that is not a number): shown to the user, never a traceback."""


@dataclass(frozen=True)
class MapFilters:
    kind: str = ""
    study_design: str = ""
    document: str = ""
    year_min: str = ""
    year_max: str = ""
    topic: str = ""

    @classmethod
    def from_mapping(cls, values) -> MapFilters:
        picked = {}
        for name in MAP_FILTERS:
            value = (values.get(name) or "").strip()
            if len(value) > 200:
                raise ChartError(f"{name} is too long (at most 200 characters)")
            if name.startswith("year") and value and not value.isdigit():
                raise ChartError(f"{name} must be a year, such as 2015 (got {value!r})")
            picked[name] = value
        return cls(**picked)

    def params(self) -> dict:
        return {name: getattr(self, name) for name in MAP_FILTERS}

    def active(self) -> dict:
        return {k: v for k, v in self.params().items() if v}


def _values(rows: list[tuple]) -> str:
    # Literals from this module's own constants (topic ids), never from a request.
    return ", ".join("(" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in row) + ")" for row in rows)


_AXES = _values(
    [(t, "exposure", i) for i, t in enumerate(EXPOSURE_TOPICS)]
    + [(t, "outcome", i) for i, t in enumerate(OUTCOME_TOPICS)]
)


def _side_cte(side: str, other: str) -> str:
    """A mapped claim's topics on one side of the map, or the side's "other" when it has none."""
    return f"""{side}s as (
  select m.id, ct.topic_id as {side} from mapped m
  join claim_topics ct on ct.claim_id = m.id join axes a on a.topic_id = ct.topic_id and a.side = '{side}'
  union all
  select m.id, '{other}' from mapped m where not exists (
    select 1 from claim_topics ct join axes a on a.topic_id = ct.topic_id and a.side = '{side}'
    where ct.claim_id = m.id)
)"""


# Every mapped claim once per (exposure, outcome) cell; the filters are named parameters, blank = any.
MAP_CELLS_CTE = f"""with axes(topic_id, side, position) as (values {_AXES}),
mapped as (
  select c.id, c.certainty from claims c
  where (c.intervention is not null or c.outcome is not null)
    and (:kind = '' or c.kind = :kind)
    and (:study_design = '' or c.study_design = :study_design)
    and (:document = '' or c.document_id = :document)
    and (:year_min = '' or c.year >= cast(:year_min as integer))
    and (:year_max = '' or c.year <= cast(:year_max as integer))
    and (:topic = '' or exists (select 1 from claim_topics t where t.claim_id = c.id and t.topic_id = :topic))
),
{_side_cte("exposure", OTHER_EXPOSURE)},
{_side_cte("outcome", OTHER_OUTCOME)},
cells as (
  select e.exposure, o.outcome, m.id, m.certainty
  from mapped m join exposures e on e.id = m.id join outcomes o on o.id = m.id
)
"""

MAP_COUNTS_SQL = (
    MAP_CELLS_CTE
    + """select exposure, outcome, certainty, count(distinct id) as n_claims
from cells group by exposure, outcome, certainty order by exposure, outcome, certainty"""
)

MAP_CELL_CLAIMS_SQL = (
    MAP_CELLS_CTE
    + """select distinct cells.id from cells join claims c on c.id = cells.id
where cells.exposure = :exposure and cells.outcome = :outcome order by c.document_id, c.char_start"""
)


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def topic_labels(conn: sqlite3.Connection) -> dict[str, str]:
    labels = {r[0]: r[1] or r[0] for r in conn.execute("select id, label from topics")}
    labels[OTHER_EXPOSURE], labels[OTHER_OUTCOME] = "Other exposure", "Other outcome"
    return labels


def map_counts(conn: sqlite3.Connection, filters: MapFilters | None = None) -> list[dict]:
    """One row per (exposure, outcome, certainty) with claims: what the bubbles are drawn from."""
    return _rows(conn, MAP_COUNTS_SQL, (filters or MapFilters()).params())


def map_counts_for_claims(claims: Iterable[Mapping]) -> list[dict]:
    """map_counts for claim rows already read (an export's selection), placed by axes.cells_of.

    The same rows, in the same order, as MAP_COUNTS_SQL gives for those claims; tests/test_charts.py holds the two
    equal on the whole KB.
    """
    cells: dict[tuple, set[str]] = {}
    for claim in claims:
        for exposure, outcome in cells_of(claim):
            cells.setdefault((exposure, outcome, claim.get("certainty")), set()).add(claim["id"])
    # SQLite sorts NULL before any text.
    order = sorted(cells, key=lambda k: (k[0], k[1], k[2] is not None, k[2] or ""))
    return [{"exposure": e, "outcome": o, "certainty": c, "n_claims": len(cells[(e, o, c)])} for e, o, c in order]


def mapped_claim_count(conn: sqlite3.Connection, filters: MapFilters | None = None) -> int:
    sql = MAP_CELLS_CTE + "select count(distinct id) from cells"
    return conn.execute(sql, (filters or MapFilters()).params()).fetchone()[0]


def map_axes(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """Every row and column the map draws, present topics only, so empty cells show as gaps."""
    present = {r[0] for r in conn.execute("select id from topics")}
    rows = [t for t in EXPOSURE_TOPICS if t in present] + [OTHER_EXPOSURE]
    cols = [t for t in OUTCOME_TOPICS if t in present] + [OTHER_OUTCOME]
    return rows, cols


def unplaced_topics(conn: sqlite3.Connection) -> list[str]:
    """Topics neither side of the map: settings, populations, and any topic not yet assigned."""
    placed = set(EXPOSURE_TOPICS) | set(OUTCOME_TOPICS)
    return [r[0] for r in conn.execute("select id from topics order by label") if r[0] not in placed]


def cell_claim_ids(
    conn: sqlite3.Connection, exposure: str, outcome: str, filters: MapFilters | None = None
) -> list[str]:
    params = {**(filters or MapFilters()).params(), "exposure": exposure, "outcome": outcome}
    return [r[0] for r in conn.execute(MAP_CELL_CLAIMS_SQL, params)]


def filter_options(conn: sqlite3.Connection) -> dict:
    """The values each map filter can take, from the data."""

    def distinct(column: str) -> list:
        return [
            r[0] for r in conn.execute(f"select distinct {column} from claims where {column} is not null order by 1")
        ]

    documents = _rows(conn, "select id, title from documents order by title")
    return {
        "kind": distinct("kind"),
        "study_design": distinct("study_design"),
        "document": documents,
        "year": distinct("year"),
    }


# -- Effects ------------------------------------------------------------------------------

# Every claim with an effect, deck's and source's figures; the effect-direction plot's rows.
EFFECTS_SQL = """select id, statement, outcome, certainty, effect_status, effect_text,
  effect_metric, effect_value, effect_direction,
  source_effect_text, source_effect_metric, source_effect_value, source_effect_direction
from claims
where effect_metric is not null or effect_direction is not null or source_effect_metric is not null
order by effect_status = 'discrepant' desc, id"""

# Metrics whose values are percentages of the comparator: comparable with one another on one axis.
PERCENT_METRICS = frozenset(
    {"percent_change", "percent_difference", "odds_percent_change", "likelihood_percent_change", "risk_percent_change"}
)


def effect_rows(conn: sqlite3.Connection) -> list[dict]:
    return _rows(conn, EFFECTS_SQL)


def signed_percent(metric, value, direction) -> float | None:
    """A percentage figure as a signed number (a decrease is negative); None when not a percentage."""
    if metric not in PERCENT_METRICS or value is None:
        return None
    return -abs(value) if direction == "decrease" else abs(value)


def forest_sql(conn: sqlite3.Connection) -> str | None:
    """Ratio claims with an interval; None when the KB stores no intervals (the ingester adds the columns)."""
    columns = {r[1] for r in conn.execute("pragma table_info(claims)")}
    if not {"effect_ci_low", "effect_ci_high"} <= columns:
        return None
    metrics = ", ".join(repr(m) for m in sorted(RATIO_METRICS))
    return f"""select id, statement, certainty, effect_metric, effect_value, effect_ci_low, effect_ci_high
from claims where effect_metric in ({metrics}) and effect_value > 0
  and effect_ci_low > 0 and effect_ci_high > 0 order by effect_value"""


def forest_rows(conn: sqlite3.Connection) -> list[dict]:
    sql = forest_sql(conn)
    return _rows(conn, sql) if sql else []


# -- Graphs -------------------------------------------------------------------------------

RELATIONS_SQL = """select r.from_claim, r.relation, r.to_claim, r.note from claim_relations r
order by r.from_claim, r.relation, r.to_claim"""


def relation_graph(conn: sqlite3.Connection) -> tuple[list[dict], list[dict]]:
    """(nodes, edges) of claim_relations; each node carries its value-chain layer."""
    edges = _rows(conn, RELATIONS_SQL)
    ids = sorted({e["from_claim"] for e in edges} | {e["to_claim"] for e in edges})
    if not ids:
        return [], []
    marks = ",".join("?" * len(ids))
    nodes = _rows(conn, f"select id, statement, certainty, topics from claims where id in ({marks}) order by id", ids)
    for node in nodes:
        node["layer"] = layer_of(json_list(node.pop("topics")))
    return nodes, edges


def source_graph(conn: sqlite3.Connection, key: str) -> tuple[list[dict], list[dict]]:
    """A source, its authors, the claims citing it and the works co-cited with it, as (nodes, edges)."""
    source = conn.execute("select key, citation_short, title from sources where key = ?", [key]).fetchone()
    if source is None:
        return [], []
    nodes = [{"id": f"s:{key}", "kind": "source", "label": source[1] or source[2] or key, "ref": key}]
    edges = []
    for author_id, display in conn.execute(
        "select a.id, a.display from source_authors sa join authors a on a.id = sa.author_id "
        "where sa.source_key = ? order by sa.role, sa.position",
        [key],
    ):
        nodes.append({"id": f"a:{author_id}", "kind": "author", "label": display, "ref": author_id})
        edges.append({"from": f"a:{author_id}", "to": f"s:{key}", "label": "wrote"})
    claims = conn.execute(
        "select c.id, c.statement, cs.role from claim_sources cs join claims c on c.id = cs.claim_id "
        "where cs.source_key = ? order by c.id",
        [key],
    ).fetchall()
    for claim_id, statement, role in claims:
        nodes.append({"id": f"c:{claim_id}", "kind": "claim", "label": statement, "ref": claim_id})
        edges.append({"from": f"s:{key}", "to": f"c:{claim_id}", "label": (role or "").replace("_", " ")})
    seen = set()
    for claim_id, _, _ in claims:
        for other, label in conn.execute(
            "select s.key, coalesce(s.citation_short, s.title, s.key) from claim_sources cs "
            "join sources s on s.key = cs.source_key where cs.claim_id = ? and cs.source_key != ? order by s.key",
            [claim_id, key],
        ):
            if other not in seen:
                seen.add(other)
                nodes.append({"id": f"s:{other}", "kind": "co-cited", "label": label, "ref": other})
            edges.append({"from": f"s:{other}", "to": f"c:{claim_id}", "label": "co-cited"})
    return nodes, edges


def certainty_rank(value) -> int:
    return CERTAINTY_ORDER.index(value) if value in CERTAINTY_ORDER else len(CERTAINTY_ORDER)
