"""What the citation explorer pages show, read from the KB in one SQL thread each.

Every function takes an open sqlite3 connection (Datasette's read connection)
and a Links, and returns plain dicts and lists for a template. Nothing here
produces HTML: templates escape everything they print.
"""

from __future__ import annotations

import sqlite3

from ingest.schema import json_list
from kb.cite import sources_by_key
from kb.cite.select import referenced_keys
from search.results import headline

from .citations import apa_bundle, apa_for_page

ROLE_ORDER = {"cited_in_deck": 0, "attributed": 1, "background": 2}
ROLE_LABELS = {
    "cited_in_deck": "Cited in the deck",
    "attributed": "Attributed by the curators",
    "background": "Background reading",
}
RELATION_LABELS = {
    "part_of": "is part of",
    "leads_to": "leads to",
    "supports": "supports",
    "elaborates": "elaborates",
    "contrasts_with": "contrasts with",
}
# How much of the document to show around a quote, at most, on each side.
CONTEXT_CHARS = 600
NEIGHBOURS = 5


def safe_url(url) -> str | None:
    """Only http(s) links from data: a javascript: URL in a source would run on click."""
    if isinstance(url, str) and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def _one(conn, sql, params=()) -> dict | None:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else None


# -- Home -------------------------------------------------------------------------------


def home(conn: sqlite3.Connection, links) -> dict:
    counts = _one(
        conn,
        """
        select (select count(*) from claims) as claims,
               (select count(*) from sources) as sources,
               (select count(*) from sources where n_claims > 0) as sources_cited,
               (select count(*) from authors) as authors,
               (select count(*) from topics) as topics,
               (select count(*) from documents) as documents,
               (select count(*) from claims where effect_metric is not null) as effect_sizes,
               (select count(*) from claims where effect_status = 'discrepant') as discrepancies,
               (select count(*) from claim_relations) as relations
    """,
    )
    topics = _rows(conn, "select id, label, description, n_claims from topics order by n_claims desc, label")
    for topic in topics:
        topic["url"] = links.topic_claims(topic["id"])
        topic["search_url"] = links.search_page(topic=topic["id"])
    kinds = _rows(conn, "select kind, count(*) as n from claims group by kind order by n desc, kind")
    for kind in kinds:
        kind["url"] = links.table("claims", {"kind": kind["kind"]})
    documents = _rows(conn, "select id, title, author, kind, year from documents order by title")
    for doc in documents:
        doc["url"] = links.document(doc["id"])
    return {"counts": counts, "topics": topics, "kinds": kinds, "documents": documents}


def topic_options(conn: sqlite3.Connection) -> list[dict]:
    return _rows(conn, "select id, label, n_claims from topics order by label")


# -- Claim ------------------------------------------------------------------------------


def quote_in_context(conn: sqlite3.Connection, claim: dict) -> dict | None:
    """The quote with the text around it, within its slide, cut to whole lines."""
    doc = _one(conn, "select id, title, author, text from documents where id = ?", [claim["document_id"]])
    if not doc or doc["text"] is None:
        return None
    text, start, end = doc["text"], claim["char_start"], claim["char_end"]
    if start is None or end is None or not (0 <= start <= end <= len(text)):
        return None
    slide = None
    if claim.get("slide_number") is not None:
        slide = _one(
            conn,
            "select number, heading, line_start, line_end, char_start, char_end from slides "
            "where document_id = ? and number = ?",
            [doc["id"], claim["slide_number"]],
        )
    lo, hi = (slide["char_start"], slide["char_end"]) if slide else (0, len(text))
    lo, hi = max(lo, start - CONTEXT_CHARS), min(hi, end + CONTEXT_CHARS)
    # Whole lines read better than a window cut mid-word.
    if lo > 0 and text[lo - 1] != "\n":
        cut = text.find("\n", lo, start)
        lo = cut + 1 if cut != -1 else lo
    if hi < len(text) and text[hi - 1 : hi] != "\n":
        cut = text.rfind("\n", end, hi)
        hi = cut if cut != -1 else hi
    first_line = text.count("\n", 0, lo) + 1
    return {
        "document": {"id": doc["id"], "title": doc["title"], "author": doc["author"]},
        "slide": slide,
        "before": text[lo:start].lstrip("\n"),
        "quote": text[start:end],
        "after": text[end:hi].rstrip(),
        "clipped_before": lo > (slide["char_start"] if slide else 0),
        "clipped_after": hi < (slide["char_end"] if slide else len(text)),
        "first_line": first_line,
    }


def neighbours(conn: sqlite3.Connection, claim_id: str, k: int = NEIGHBOURS) -> tuple[str, list[tuple[str, float]]]:
    """The claims nearest this one: by embedding when the KB has an index, else by shared topics."""
    from search import SearchError, related

    try:
        hits = related(conn, claim_id, k)
        if hits:
            return "semantic", hits
    except (SearchError, sqlite3.Error):
        pass
    rows = conn.execute(
        """
        select other.claim_id, count(*) as shared
        from claim_topics mine join claim_topics other
          on other.topic_id = mine.topic_id and other.claim_id != mine.claim_id
        where mine.claim_id = ?
        group by other.claim_id order by shared desc, other.claim_id limit ?
    """,
        [claim_id, k],
    ).fetchall()
    return "topics", [(r[0], float(r[1])) for r in rows]


def claim_page(conn: sqlite3.Connection, claim_id: str, links) -> dict | None:
    claim = _one(conn, "select * from claims where id = ?", [claim_id])
    if claim is None:
        return None
    topics = _rows(
        conn,
        "select t.id, t.label from claim_topics ct join topics t on t.id = ct.topic_id "
        "where ct.claim_id = ? order by t.label",
        [claim_id],
    )
    for topic in topics:
        topic["url"] = links.topic_claims(topic["id"])
    items = _rows(
        conn, "select position, label, detail from claim_items where claim_id = ? order by position", [claim_id]
    )
    # The copied citation cites what `kb cite` would: the sources the claim rests on.
    copy_bundle = apa_bundle(sources_by_key(conn, referenced_keys(claim)))
    context = quote_in_context(conn, claim)
    if context:
        context["document"]["url"] = links.document(context["document"]["id"])
    document = (context or {}).get("document") or {}
    checked = None
    if claim.get("source_effect_source"):
        checked = _one(
            conn, "select key, citation_short, title from sources where key = ?", [claim["source_effect_source"]]
        )
        if checked:
            checked["url"] = links.source(checked["key"])
    method, related = _related(conn, claim_id, links)
    out_edges, in_edges = _edges(conn, claim_id, links)
    where = where_quoted(
        document.get("title"), document.get("author"), claim.get("slide_number"), claim.get("slide_heading")
    )
    return {
        "kind": "claim",
        "title": claim["statement"],
        "claim": claim,
        "topics": topics,
        "framework_items": items,
        "keywords": json_list(claim.get("keywords")),
        "sources": _claim_sources(conn, claim_id, links),
        "copy_text": copy_text(claim["statement"], copy_bundle, where),
        "headline": headline(claim),
        "checked_source": checked,
        "context": context,
        "related": related,
        "related_method": method,
        "out_edges": out_edges,
        "in_edges": in_edges,
        "exports": row_exports(links.claim, claim_id) if copy_bundle["references"] else [],
        "search_url": links.search_page(q=claim["statement"][:200]),
    }


def _claim_sources(conn, claim_id: str, links) -> list[dict]:
    """Every linked source (background reading too), in APA, by role."""
    linked = _rows(
        conn, "select source_key, role, confidence, locator, note from claim_sources where claim_id = ?", [claim_id]
    )
    linked.sort(key=lambda link: (ROLE_ORDER.get(link["role"], 9), link["source_key"]))
    references = {r["key"]: r for r in apa_for_page(sources_by_key(conn, [link["source_key"] for link in linked]))}
    sources = []
    for link in linked:
        ref = references.get(link["source_key"], {})
        source = ref.get("source") or {}
        sources.append(
            {
                **link,
                "role_label": ROLE_LABELS.get(link["role"], link["role"]),
                "runs": ref.get("runs", []),
                "plain": ref.get("plain", ""),
                "in_text": ref.get("in_text", ""),
                "doi": source.get("doi"),
                "url": safe_url(source.get("url")),
                "page_url": links.source(link["source_key"]),
            }
        )
    return sources


def _related(conn, claim_id: str, links) -> tuple[str, list[dict]]:
    method, near = neighbours(conn, claim_id)
    if not near:
        return method, []
    marks = ",".join("?" * len(near))
    found = {
        r["id"]: r
        for r in _rows(
            conn,
            f"select id, statement, effect_text, certainty, citations from claims where id in ({marks})",
            [cid for cid, _ in near],
        )
    }
    return method, [{**found[cid], "score": score, "url": links.claim(cid)} for cid, score in near if cid in found]


def _edges(conn, claim_id: str, links) -> tuple[list[dict], list[dict]]:
    """Value-chain links out of and into the claim."""
    out_edges = _rows(
        conn,
        """
        select r.relation, r.to_claim as other, c.statement, r.note from claim_relations r
        join claims c on c.id = r.to_claim where r.from_claim = ? order by r.relation, r.to_claim
    """,
        [claim_id],
    )
    in_edges = _rows(
        conn,
        """
        select r.relation, r.from_claim as other, c.statement, r.note from claim_relations r
        join claims c on c.id = r.from_claim where r.to_claim = ? order by r.relation, r.from_claim
    """,
        [claim_id],
    )
    for edge in out_edges + in_edges:
        edge["url"] = links.claim(edge["other"])
        edge["relation_label"] = RELATION_LABELS.get(edge["relation"], edge["relation"])
    return out_edges, in_edges


def copy_text(statement: str, bundle: dict, where: str | None = None) -> str:
    """What "copy citation" puts on the clipboard: the claim as a slide states it, then its references.

    The parenthetical goes before the final full stop, as APA places it.
    """
    statement = (statement or "").strip()
    if not bundle.get("references"):
        note = f"Source: {where}" if where else "Source: the deck itself"
        return f"{statement}\n\n{note} (no study is cited for this claim)."
    body = statement[:-1] if statement.endswith(".") else statement
    refs = "\n".join(r["plain"] for r in bundle["references"] if r.get("plain"))
    return f"{body} {bundle['in_text']}.\n\n{refs}"


def where_quoted(document_title: str | None, author: str | None, slide_number, slide_heading) -> str:
    parts = [f"{author}, " if author else "", f"“{document_title}”" if document_title else "the deck"]
    if slide_number is not None:
        parts.append(f", slide {slide_number}" + (f" ({slide_heading})" if slide_heading else ""))
    return "".join(parts)


# (label, renderer extension, _markup) of every export a page offers.
EXPORTS = (
    ("BibTeX", "bib", None),
    ("RIS", "ris", None),
    ("APA (text)", "apa", None),
    ("APA (Markdown)", "apa", "markdown"),
)


def export_links(url_for) -> list[dict]:
    """The export links of a page; url_for(extension, markup) makes each URL."""
    return [{"label": label, "url": url_for(ext, markup)} for label, ext, markup in EXPORTS]


def row_exports(row_url, pk) -> list[dict]:
    return export_links(lambda ext, markup: row_url(pk, ext) + ("?_markup=" + markup if markup else ""))


def table_exports(links, table: str, params: dict) -> list[dict]:
    return export_links(
        lambda ext, markup: links.table(table, {**params, "_markup": markup} if markup else params, ext)
    )


# -- Source -----------------------------------------------------------------------------


def source_page(conn: sqlite3.Connection, key: str, links) -> dict | None:
    rows = _rows(conn, "select * from sources where key = ?", [key])
    if not rows:
        return None
    source = rows[0]
    refs = apa_for_page(rows)
    people = _rows(
        conn,
        """
        select a.id, a.display, a.n_works, sa.role, sa.position from source_authors sa
        join authors a on a.id = sa.author_id where sa.source_key = ? order by sa.role, sa.position
    """,
        [key],
    )
    for person in people:
        person["url"] = links.author(person["id"])
    claims = _rows(
        conn,
        """
        select c.id, c.statement, c.effect_text, c.certainty, c.kind, cs.role, cs.confidence, cs.locator
        from claim_sources cs join claims c on c.id = cs.claim_id
        where cs.source_key = ? order by c.document_id, c.char_start
    """,
        [key],
    )
    for claim in claims:
        claim["url"] = links.claim(claim["id"])
        claim["role_label"] = ROLE_LABELS.get(claim["role"], claim["role"])
    checked = _rows(
        conn,
        "select id, statement, effect_text, source_effect_text, effect_status, discrepancy "
        "from claims where source_effect_source = ? order by id",
        [key],
    )
    for claim in checked:
        claim["url"] = links.claim(claim["id"])
    co_cited = _rows(
        conn,
        """
        select s.key, s.citation_short, s.title, s.year, count(distinct mine.claim_id) as shared
        from claim_sources mine
        join claim_sources theirs on theirs.claim_id = mine.claim_id and theirs.source_key != mine.source_key
        join sources s on s.key = theirs.source_key
        where mine.source_key = ?
        group by s.key order by shared desc, s.citation_short
    """,
        [key],
    )
    for other in co_cited:
        other["url"] = links.source(other["key"])
    return {
        "kind": "source",
        "title": source["title"],
        "source": source,
        "url": safe_url(source.get("url")),
        "reference": refs[0] if refs else None,
        "authors": [p for p in people if p["role"] == "author"],
        "editors": [p for p in people if p["role"] == "editor"],
        "claims": claims,
        "checked_claims": checked,
        "co_cited": co_cited,
        "missing_fields": json_list(source.get("missing_fields")),
        "exports": row_exports(links.source, key),
        "claims_url": links.query("claims_citing_source", {"source_key": key}),
    }


# -- Author -----------------------------------------------------------------------------


def author_page(conn: sqlite3.Connection, author_id, links) -> dict | None:
    author = _one(conn, "select * from authors where id = ?", [author_id])
    if author is None:
        return None
    works = _rows(
        conn,
        """
        select s.key, s.title, s.year, s.citation_short, s.container_title, s.csl_type, s.n_claims, sa.role
        from source_authors sa join sources s on s.key = sa.source_key
        where sa.author_id = ? order by s.year is null, s.year, s.title
    """,
        [author["id"]],
    )
    for work in works:
        work["url"] = links.source(work["key"])
    coauthors = _rows(
        conn,
        """
        select a.id, a.display, count(distinct other.source_key) as shared
        from source_authors mine
        join source_authors other on other.source_key = mine.source_key and other.author_id != mine.author_id
        join authors a on a.id = other.author_id
        where mine.author_id = ? group by a.id order by shared desc, a.display
    """,
        [author["id"]],
    )
    for person in coauthors:
        person["url"] = links.author(person["id"])
    references = {r["key"]: r for r in apa_for_page(sources_by_key(conn, [w["key"] for w in works]))}
    for work in works:
        ref = references.get(work["key"], {})
        work["runs"], work["plain"] = ref.get("runs", []), ref.get("plain", "")
    n_claims = conn.execute(
        """
        select count(distinct cs.claim_id) from claim_sources cs
        join source_authors sa on sa.source_key = cs.source_key where sa.author_id = ?
    """,
        [author["id"]],
    ).fetchone()[0]
    return {
        "kind": "author",
        "title": author["display"],
        "author": author,
        "works": works,
        "coauthors": coauthors,
        "n_claims": n_claims,
        # The link table holds the source keys, so the ordinary renderers export the works.
        "exports": table_exports(links, "source_authors", {"author_id": author["id"], "_size": "max"}),
    }
