"""<prefix>/search (a page for people) and <prefix>/search.json (the same results for programs); prefix /-/kb by default."""

from __future__ import annotations

import json

from datasette.utils.asgi import Response

from kb.cite import sources_by_key
from kb.cite.select import claims_by_id, referenced_keys
from search import InvalidQuery, SearchError
from search.retrieve import MAX_QUERY_CHARS

from . import explorer, finder
from .citations import apa_bundle
from .kbdb import kb_database, state
from .limits import MAX_PAGE_K, MAX_QUERY_STRING_CHARS, BadParameter
from .links import Links

EXAMPLES = (
    "evidence for compassion in diabetes care",
    "does compassionate care save money",
    "what helps staff recover from work stress",
    "how do leaders shape culture",
)


def _json_error(message: str, status: int) -> Response:
    # Datasette's own error shape, so clients handle both alike.
    return Response.json({"ok": False, "error": message, "status": status, "title": None}, status=status)


async def search_json(datasette, request) -> Response:
    try:
        req = _parse(request)
    except BadParameter as exc:
        return _json_error(str(exc), 400)
    if not req.query:
        example = Links(datasette, None).search_json(q="your question", k=10)
        return _json_error(f"q is required: {example}", 400)
    try:
        outcome = await finder.run(datasette, req)
    except InvalidQuery as exc:
        return _json_error(str(exc), 400)
    except SearchError as exc:
        return _json_error(str(exc), 503)
    headers = {
        "x-kb-mode": outcome.mode,
        # JSON with ASCII escapes: never a raw newline or non-Latin-1 byte in a header.
        "x-kb-notices": json.dumps(outcome.notices),
        "cache-control": "max-age=60",
    }
    if outcome.no_good_match:
        # The body stays a bare array (the contract); the verdict travels beside it.
        headers["x-kb-no-good-match"] = "1"
    if request.args.get("_envelope"):
        body = {
            "query": req.query,
            "k": req.k,
            "mode": outcome.mode,
            "filters": req.filter_kwargs(),
            "notices": outcome.notices,
            "no_good_match": outcome.no_good_match,
            "results": outcome.dicts(),
        }
        return Response.json(body, headers=headers)
    return Response(outcome.json_bytes(), content_type="application/json; charset=utf-8", headers=headers)


async def certainty_page(datasette, request) -> Response:
    """<prefix>/certainty: what the certainty badges mean, from docs/certainty.md's rules."""
    from search.results import RULE_REASONS

    levels = [{"id": level, "label": level.replace("_", " "), "meaning": text} for level, text in RULE_REASONS.items()]
    html = await datasette.render_template(
        "kb_certainty.html", {"levels": levels}, request=request, view_name="kb_certainty"
    )
    return Response.html(html)


async def search_page(datasette, request) -> Response:
    db = kb_database(datasette)
    error, outcome, req, status = None, None, None, 200
    try:
        req = _parse(request)
    except BadParameter as exc:
        error, status = str(exc), 400
    if req is not None and req.query and db is not None:
        try:
            outcome = await finder.run(datasette, req)
        except InvalidQuery as exc:
            error, status = str(exc), 400
        except SearchError as exc:
            error, status = str(exc), 503
    links = Links(datasette, db.name if db is not None else None)
    results = []
    if outcome is not None:
        results = await db.execute_fn(lambda conn: _decorate(conn, outcome.results, links))
    topics = state(datasette).topics
    context = {
        "kb_database": db.name if db is not None else None,
        "q": req.query if req else (request.args.get("q") or "")[:MAX_QUERY_CHARS],
        "k": req.k if req else 10,
        "mode": req.mode if req else "hybrid",
        "selected": req.filter_kwargs() if req else {},
        "modes": finder.MODES,
        "topics": topics,
        "kinds": _vocabulary("KINDS"),
        "designs": _vocabulary("STUDY_DESIGNS"),
        "max_k": MAX_PAGE_K,
        "max_query_chars": MAX_QUERY_CHARS,
        "error": error,
        "searched": outcome is not None,
        "results": results,
        "notices": outcome.notices if outcome else [],
        "result_mode": outcome.mode if outcome else None,
        "no_good_match": bool(outcome and outcome.results and outcome.no_good_match),
        "certainty_url": links.certainty_page(),
        "semantic_unavailable": state(datasette).semantic_unavailable,
        "examples": [{"q": e, "url": links.search_page(q=e)} for e in EXAMPLES],
        "search_url": links.search_page(),
        "json_url": links.search_json(request.query_string),
        "json_example": links.search_json() + "?q=…&k=10",
    }
    html = await datasette.render_template("kb_search.html", context, request=request, view_name="kb_search")
    return Response.html(html, status=status)


def _parse(request):
    if len(request.query_string) > MAX_QUERY_STRING_CHARS:
        raise BadParameter(f"the query string is too long (limit {MAX_QUERY_STRING_CHARS} characters)")
    # Hybrid by default, as `kb search`; without embeddings it degrades to keyword with a notice.
    return finder.parse_request(request.args)


def _vocabulary(name: str) -> tuple:
    from ingest import vocabulary

    return getattr(vocabulary, name, ())


def _decorate(conn, results, links) -> list[dict]:
    """Each result as the page shows it: the contract's fields plus links and citation text."""
    claims = {c["id"]: c for c in claims_by_id(conn, [r.id for r in results])}
    out = []
    for result in results:
        data = result.to_dict()
        # Per claim, the sources `kb cite` would cite, so the copied in-text
        # citation and references agree (year suffixes are per list).
        bundle = apa_bundle(sources_by_key(conn, referenced_keys(claims[result.id])))
        location = result.location or {}
        where = explorer.where_quoted(
            (result.document or {}).get("title"), None, location.get("slide_number"), location.get("slide_heading")
        )
        data["copy_text"] = explorer.copy_text(result.statement, bundle, where)
        data["url"] = links.claim(result.id)
        data["topic_links"] = [{"id": t, "url": links.topic_claims(t)} for t in result.topics]
        out.append(data)
    return out
