"""The layers run one way: kb → search → ingest, and click only in kb/.

Every module is parsed with `ast` (nothing is imported or run), so the test
also catches imports hidden inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "search", "kb")
# What each layer may import of ours: only what lies below it.
ALLOWED = {"ingest": {"ingest"}, "search": {"ingest", "search"}, "kb": {"ingest", "search", "kb"}}


def imported_top_levels(path: Path, package: str) -> set[str]:
    """The top-level names a module imports; relative imports resolve to their own package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else (node.module or "").split(".")[0])
    return names


def layer_violations(root: Path) -> list[str]:
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            imported = imported_top_levels(path, package)
            for name in sorted((imported & set(PACKAGES)) - ALLOWED[package]):
                problems.append(f"{path.relative_to(root)} imports {name}")
            if "click" in imported and package != "kb":
                problems.append(f"{path.relative_to(root)} imports click")
    return problems


def test_layers_run_one_way():
    assert layer_violations(ROOT) == []


@pytest.mark.parametrize(
    "package, source, expected",
    [
        ("ingest", "from kb.config import DEFAULT_DB\n", "imports kb"),
        ("ingest", "def f():\n    import search.index\n", "imports search"),
        ("search", "from kb.cite import render\n", "imports kb"),
        ("search", "import click\n", "imports click"),
        ("ingest", "from click import echo\n", "imports click"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path, package, source, expected):
    for name in PACKAGES:
        (tmp_path / name).mkdir()
    (tmp_path / package / "bad.py").write_text(source)
    assert layer_violations(tmp_path) == [f"{package}/bad.py {expected}"]


def test_kb_may_import_everything_below_it(tmp_path):
    for name in PACKAGES:
        (tmp_path / name).mkdir()
    (tmp_path / "kb" / "ok.py").write_text("import click\nimport search\nfrom ingest import paths\nfrom . import x\n")
    assert layer_violations(tmp_path) == []
