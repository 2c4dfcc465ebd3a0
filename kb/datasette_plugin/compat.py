"""The few calls that differ between Datasette 0.65 and 1.0, each behind one function.

Everything else the plugin uses is the same on both; tests run on both (.ci/datasette-versions).
"""

from __future__ import annotations

from datasette import hookspecs

# 1.0 has top_homepage and friends; 0.65 has none, so its home page needs a template.
HAS_TOP_HOOKS = hasattr(hookspecs, "top_homepage")


async def canned_queries(datasette, database: str, actor) -> list[dict]:
    """The database's canned (1.0: stored) queries the actor may see: name, title, description."""
    if hasattr(datasette, "get_canned_queries"):  # 0.65
        found = (await datasette.get_canned_queries(database, actor)).values()
        return [{"name": q["name"], "title": q.get("title"), "description": q.get("description")} for q in found]
    # 1.0 keeps them in the internal database; get_canned_queries() is gone.
    page = await datasette.list_queries(database, actor=actor, limit=1000)
    return [{"name": q.name, "title": q.title, "description": q.description} for q in page.queries]


async def instance_metadata(datasette) -> dict:
    """The top-level metadata (title, description, licence, source)."""
    if hasattr(datasette, "get_instance_metadata"):  # 1.0
        return await datasette.get_instance_metadata() or {}
    return datasette.metadata() or {}
