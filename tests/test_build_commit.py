"""One commit point: a build killed at any moment leaves the old KB or the new one, never a mix.

A real `kb build` runs in a subprocess and is killed with SIGKILL at a spread of
moments (loading, embedding, writing the index, publishing it, committing).
After each kill the database at the target path must search cleanly with the
index it names, and say either the old or the new statement of the changed claim.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlite_utils

import search
from kb.build import build_kb
from search.index import fingerprint_path_for, index_path_for

CLAIM = "diabetes-compassion-blood-sugar-control"
OLD = "Among patients with diabetes, optimal blood sugar control was 80% higher with compassionate care."
NEW = "Among patients with diabetes, optimal blood sugar (glycaemic) control was 80% higher with compassionate care."
KILL_AFTER_S = (0.3, 0.9, 1.6, 2.4, 3.3, 4.5, 6.0)


def statement(db: Path) -> str:
    return sqlite_utils.Database(db)["claims"].get(CLAIM)["statement"]


def test_a_killed_build_leaves_the_old_or_the_new_kb(kb_copy, tmp_path):
    db = tmp_path / "build" / "kb.db"
    build_kb(db, root=kb_copy, progress=False)
    assert statement(db) == OLD
    claims = next((kb_copy / "evidence" / "claims").glob("*.yaml"))
    text = claims.read_text(encoding="utf-8")
    assert OLD in text
    claims.write_text(text.replace(OLD, NEW, 1), encoding="utf-8")
    command = [sys.executable, "-m", "kb.cli", "build", "--root", str(kb_copy), "--db", str(db), "-q"]
    seen = set()
    for delay in KILL_AFTER_S:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        now = statement(db)
        assert now in (OLD, NEW)
        seen.add(now)
        assert index_path_for(db).exists() and fingerprint_path_for(db).exists()
        hits = search.search(db, "blood sugar control in diabetes", k=1, mode="semantic")
        assert hits[0].id == CLAIM and hits[0].statement == now
        if now == NEW:
            break
    build_kb(db, root=kb_copy, progress=False)
    assert statement(db) == NEW
    left = sorted(p.name for p in db.parent.iterdir())
    assert left == sorted({db.name, index_path_for(db).name, fingerprint_path_for(db).name} | onnx_files(db)), left


def onnx_files(db: Path) -> set[str]:
    return {p.name for p in db.parent.glob(db.name + ".onnx*")}
