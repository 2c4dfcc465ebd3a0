"""Clean answers for bad requests: 400 for a bad sort, 405 for a POST to a table, no traceback per request.

Datasette 0.65 answers `?_sort=<unknown column>` with a 500, a POST to a table
with an AssertionError (500), and prints every handled error with rich,
locals included, to the log; for a plain 404 that print itself fails (rich
refuses to print outside an `except` block) and turns the 404 into a 500.
The hook below answers the first two properly; `quiet_default_handler` stops
the per-request rich tracebacks (Datasette falls back to its plain handler,
which still prints genuine server errors once, as they should be).
"""

from __future__ import annotations

from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError


def response_for(request, exception) -> Response | None:
    status = None
    if isinstance(exception, DatasetteError) and str(exception.message).startswith("Cannot sort"):
        status, message = 400, exception.message
    elif isinstance(exception, AssertionError) and "POST" in str(exception):
        status, message = 405, "This page does not accept POST requests."
    if status is None:
        return None
    body = {"ok": False, "error": message, "status": status}
    if request is not None and request.path.split("?")[0].endswith(".json"):
        return Response.json(body, status=status)
    return Response.text(f"{status}: {message}\n", status=status)


def quiet_default_handler() -> None:
    import datasette.handle_exception as default

    default.rich = None
