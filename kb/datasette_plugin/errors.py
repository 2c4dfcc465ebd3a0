"""Clean answers for bad requests: 400 for a bad sort, 405 for a POST to a table, no traceback per request.

Datasette 0.65 answers `?_sort=<unknown column>` with a 500, a POST to a table
with an AssertionError (500), and prints every handled error with rich,
locals included, to the log; for a plain 404 that print itself fails (rich
refuses to print outside an `except` block) and turns the 404 into a 500.
The hook below answers the first two properly. Datasette calls every
`handle_exception` hook, its own default last, and that default prints a
traceback even when a plugin has answered; `quiet_default_handler` makes it
print nothing for an answered error, and one line per request for any other,
with the full traceback only the first time that error happens at that place,
so a flood of bad requests cannot fill the log.
"""

from __future__ import annotations

import sys
import traceback

from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError

_ANSWERED = "_kb_answered"
_REQUEST = "_kb_request"


def response_for(request, exception) -> Response | None:
    status = None
    if isinstance(exception, DatasetteError) and str(exception.message).startswith("Cannot sort"):
        status, message = 400, exception.message
    elif isinstance(exception, AssertionError) and "POST" in str(exception):
        status, message = 405, "This page does not accept POST requests."
    if status is None:
        if request is not None:
            _mark(exception, _REQUEST, f"{request.method} {request.path}")
        return None
    _mark(exception, _ANSWERED, True)
    body = {"ok": False, "error": message, "status": status}
    if request is not None and request.path.split("?")[0].endswith(".json"):
        return Response.json(body, status=status)
    return Response.text(f"{status}: {message}\n", status=status)


def _mark(exception: BaseException, name: str, value) -> None:
    try:
        setattr(exception, name, value)
    except (AttributeError, TypeError):  # an exception type with __slots__
        pass


class _OncePerPlaceTraceback:
    """Stands in for the `traceback` module inside Datasette's default exception handler."""

    def __init__(self):
        self.seen: set[tuple[str, str, int]] = set()

    def print_exc(self, *args, **kwargs) -> None:
        exception = sys.exc_info()[1]
        if exception is None or getattr(exception, _ANSWERED, False):
            return
        message = (str(exception).splitlines() or [""])[0][:200]
        where = getattr(exception, _REQUEST, "a request")
        print(f"kb serve: 500 on {where}: {type(exception).__name__}: {message}", file=sys.stderr, flush=True)
        frames = traceback.extract_tb(exception.__traceback__)
        place = (type(exception).__name__, frames[-1].filename, frames[-1].lineno) if frames else None
        if place not in self.seen:
            self.seen.add(place)
            traceback.print_exc(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(traceback, name)


def quiet_default_handler() -> None:
    import datasette.handle_exception as default

    default.rich = None
    if not isinstance(default.traceback, _OncePerPlaceTraceback):
        default.traceback = _OncePerPlaceTraceback()
