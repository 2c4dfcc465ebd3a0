"""A real `kb serve` for the tests that talk to it over HTTP (shared, like documents.py)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def kb_serve(db_path, *args: str):
    """`kb serve` as a user runs it, on a free loopback port: yields its base URL and a list that
    fills with the lines it prints (stdout and stderr together)."""
    import os
    import socket
    import subprocess
    import sys
    import threading
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kb = Path(sys.executable).with_name("kb")
    proc = subprocess.Popen(
        [str(kb), "serve", "--db", str(db_path), "--port", str(port), *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("kb serve exited early:\n" + "".join(lines))
            try:
                if httpx.get(base + "/-/versions.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail("kb serve did not answer within 120 s:\n" + "".join(lines))
            time.sleep(0.25)
        yield base, lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
