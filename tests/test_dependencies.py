"""Every third-party package the code imports is declared in pyproject.toml, and the install is consistent.

Modules are parsed with `ast`, so imports inside functions count too; each
imported top-level name is mapped to the distribution that provides it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"kb", "ingest", "search"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {canonical(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported(folder: str) -> dict[str, str]:
    """top-level module -> first file importing it, for the code of one package."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_direct_import_is_declared():
    providers = packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    wanted = declared()
    missing = []
    for folder in ("kb", "ingest", "search"):
        for module, where in imported(folder).items():
            if module in stdlib or module in OURS or module == "__future__":
                continue
            distributions = {canonical(d) for d in providers.get(module, [])}
            assert distributions, f"{where} imports {module!r}, which no installed distribution provides"
            if not distributions & wanted:
                missing.append(f"{module} ({', '.join(sorted(distributions))}) imported by {where}")
    assert missing == [], "undeclared direct imports: " + "; ".join(missing)


def test_installed_packages_are_consistent():
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
