"""kb check, build, stats and locate through click's CliRunner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ingest.load import load_all
from kb.cli import cli


def test_check_passes_on_the_project(project_root):
    result = CliRunner().invoke(cli, ["check", "--root", str(project_root)])
    assert result.exit_code == 0, result.output
    curated = load_all(project_root)
    assert result.output.startswith(f"OK: {len(curated.documents)} document(s), {len(curated.claims)} claims")


def test_build_then_stats(kb_copy):
    db = kb_copy / "out" / "kb.db"
    result = CliRunner().invoke(cli, ["build", "--root", str(kb_copy), "--db", str(db), "--no-embed", "-q"])
    assert result.exit_code == 0, result.output
    assert db.exists()
    stats = CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"])
    assert stats.exit_code == 0
    data = json.loads(stats.output)
    curated = load_all(kb_copy)
    assert data["tables"]["claims"] == len(curated.claims)
    assert data["tables"]["documents"] == len(curated.documents)
    assert data["claims_by_kind"]["finding"] == sum(c.kind == "finding" for c in curated.claims)
    human = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert "claims" in human.output and "FAISS index: missing" in human.output


def test_rebuild_replaces_atomically(kb_copy):
    db = kb_copy / "kb.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--root", str(kb_copy), "--db", str(db), "--no-embed", "-q"]).exit_code == 0
    inode_before = db.stat().st_ino
    assert runner.invoke(cli, ["build", "--root", str(kb_copy), "--db", str(db), "--no-embed", "-q"]).exit_code == 0
    # a rename, not an in-place rewrite: readers holding the old file keep a consistent copy
    assert db.stat().st_ino != inode_before
    assert [p.name for p in kb_copy.iterdir() if p.name.startswith(".kb.db")] == []


def test_stats_on_missing_db(tmp_path):
    result = CliRunner().invoke(cli, ["stats", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code != 0
    assert "not found" in result.output and "kb build" in result.output


def test_locate_prints_offsets(project_root):
    result = CliRunner().invoke(cli, ["locate", "--root", str(project_root), "survived 30% longer"])
    assert result.exit_code == 0
    hit = json.loads(result.output.splitlines()[0])
    text = (project_root / "evidence/documents/inspiring-through-compassionate-leadership.txt").read_text()
    assert text[hit["quote"]["start"] : hit["quote"]["end"]] == "survived 30% longer"
    assert hit["quote"]["line"] == 66
    assert hit["quote"]["slide"] == "Compassion in Health and Care"


def test_locate_fuzzy_spans_line_breaks(project_root):
    runner = CliRunner()
    strict = runner.invoke(cli, ["locate", "--root", str(project_root), "33% less likely"])
    assert strict.exit_code != 0 and "--fuzzy" in strict.output
    fuzzy = runner.invoke(cli, ["locate", "--root", str(project_root), "--fuzzy", "33% less likely"])
    assert fuzzy.exit_code == 0
    assert json.loads(fuzzy.output)["quote"]["text"] == "33% less \nlikely"
