"""Problems found in the curated inputs, reported together rather than one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    message: str
    record: str | None = None

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [place]
        if self.record:
            parts.append(f"[{self.record}]")
        if self.field:
            parts.append(f"{self.field}:")
        return " ".join(parts) + " " + self.message


class ValidationFailed(Exception):
    """Raised with every problem found, so one run reports them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} found:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class Problems:
    """Collects problems while loading; files are shown relative to the project root."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.items: list[Problem] = []

    def rel(self, path: Path | str) -> str:
        path = Path(path)
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except (ValueError, OSError, RuntimeError):  # outside the root, or a symlink loop
            try:
                return str(path.absolute().relative_to(self.root.absolute()))
            except ValueError:
                return str(path)

    def add(self, file, line, field, message, record=None) -> None:
        self.items.append(Problem(self.rel(file), line, field, message, record))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)
