"""A rebuild under a running `kb serve`: never an old database mixed with a new index.

The real server runs on 127.0.0.1; while clients keep asking, the KB is rebuilt
with a changed claim. Every answer is either from the old build (before the
rename) or a 503 saying to restart; none is a stale-index error. After a
restart, the new build is served.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kb.build import build_kb

ROOT = Path(__file__).resolve().parent.parent
CLAIM = "diabetes-compassion-blood-sugar-control"
OLD = "Among patients with diabetes, optimal blood sugar control was 80% higher with compassionate care."
NEW = "Among patients with diabetes, optimal blood sugar (glycaemic) control was 80% higher with compassionate care."
QUERY = "/-/kb/search.json?q=blood+sugar+control+in+diabetes&k=1"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(db: Path):
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("kb")), "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail("kb serve exited early")
        try:
            if httpx.get(base + "/-/versions.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    pytest.fail("kb serve did not start")


@pytest.mark.server
def test_a_rebuild_under_a_running_server_is_refused_never_mixed(kb_copy, tmp_path):
    db = tmp_path / "kb.db"
    build_kb(db, root=kb_copy, progress=False)
    claims = next((kb_copy / "evidence" / "claims").glob("*.yaml"))
    proc, base = serve(db)
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def ask():
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                response = client.get(base + QUERY)
                answers.append((response.status_code, response.text))
                time.sleep(0.02)

    asker = threading.Thread(target=ask)
    try:
        first = httpx.get(base + QUERY, timeout=10).json()
        assert first[0]["statement"] == OLD
        asker.start()
        claims.write_text(claims.read_text(encoding="utf-8").replace(OLD, NEW, 1), encoding="utf-8")
        build_kb(db, root=kb_copy, progress=False)
        time.sleep(1.0)
        stop.set()
        asker.join()
        assert answers, "the clients got no answers"
        for status, text in answers:
            assert status in (200, 503), (status, text[:200])
            if status == 200:
                assert OLD in text and NEW not in text
            else:
                assert "Restart `kb serve`" in text and "stale" not in text
        assert answers[-1][0] == 503
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 503 and "rebuilt" in page.text
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
    proc, base = serve(db)
    try:
        assert httpx.get(base + QUERY, timeout=10).json()[0]["statement"] == NEW
    finally:
        proc.terminate()
        proc.wait(timeout=30)
