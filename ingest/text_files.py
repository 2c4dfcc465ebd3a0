"""Curated text files read exactly as they are on disk.

Quotes are checked against exact bytes, so nothing translates newlines, and a
file that is not UTF-8 is named with the byte offset where it stops being so.
"""

from __future__ import annotations

from pathlib import Path


def read_text_exactly(path: Path) -> str:
    """The file's text, bytes as they are (no newline translation); undecodable UTF-8 names its byte offset.

    Every way a path can fail to be a readable text file (missing, a directory,
    a dangling or looping link, unreadable, not UTF-8) is one TextFileError.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise TextFileError(path, None, "is a symbolic link to nothing")
    if not path.is_file():
        raise TextFileError(path, None, "is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TextFileError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TextFileError(
            path, line, f"is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start}"
        ) from None


class TextFileError(Exception):
    def __init__(self, path: Path, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")
