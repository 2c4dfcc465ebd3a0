"""A server that notices a rebuild under it and says so, instead of mixing two builds.

`kb build` replaces the database file atomically, so a running server keeps
reading the old (now unlinked) file, while the search index beside it is the
new one. Answering from that pair would mix an old database with a new index.
The served file's identity (inode, mtime, size) is recorded at startup and
checked on every request (one stat); once it changes every request gets a 503
that says to restart `kb serve`, and nothing is served from the old build.

Why not switch in place: Datasette 0.65 keeps its read connections in
thread-locals keyed by database name, which a plugin cannot reach to close.
"""

from __future__ import annotations

import json
import os

MESSAGE = (
    "The knowledge base was rebuilt after this server started. Restart `kb serve` to serve the new build; "
    "nothing from the old one is served meanwhile."
)


def identity(path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Watch:
    def __init__(self):
        self.path = None
        self.started = None

    def start(self, path) -> None:
        self.path, self.started = path, identity(path)

    def rebuilt(self) -> bool:
        return self.path is not None and self.started is not None and identity(self.path) != self.started


async def refuse(scope, send) -> None:
    wants_json = (scope.get("path") or "").endswith(".json")
    body = (
        json.dumps({"ok": False, "error": MESSAGE, "status": 503}).encode() if wants_json else (MESSAGE + "\n").encode()
    )
    kind = b"application/json" if wants_json else b"text/plain; charset=utf-8"
    await send(
        {"type": "http.response.start", "status": 503, "headers": [(b"content-type", kind), (b"retry-after", b"5")]}
    )
    await send({"type": "http.response.body", "body": body})
