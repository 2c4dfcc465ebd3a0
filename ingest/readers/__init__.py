"""Document readers for `kb ingest`: a user's file in, its text and location map out.

    from ingest.readers import read_document
    doc = read_document("report.pdf")      # ExtractedDocument
    doc.text[s.char_start:s.char_end]      # the text of section s (page, slide, notes, heading)
    doc.location(offset)                   # page / slide / notes / heading_path / line of a character

Every failure is a ReaderError (file, optional page, message for the user),
never a library's exception. See base.py for the result type and each
format's module for what exactly its text contains.
"""

from __future__ import annotations

from pathlib import Path

from .base import ExtractedDocument, ReaderError, Section
from .docx import read_docx
from .html import read_html
from .markdown import read_markdown
from .pdf import read_pdf
from .pptx import read_pptx
from .text import read_text

MAX_BYTES = 50 * 1024 * 1024
"""Largest file read_document accepts by default: 50 MiB. Bigger files are refused before being read,
so a wrong file (a video, a disk image) fails fast instead of filling memory."""

# extension -> (reader, what to call the format when the file cannot be read)
_READERS = {
    ".pdf": (read_pdf, "PDF"),
    ".pptx": (read_pptx, "PowerPoint file"),
    ".docx": (read_docx, "Word file"),
    ".html": (read_html, "HTML file"),
    ".htm": (read_html, "HTML file"),
    ".md": (read_markdown, "Markdown file"),
    ".markdown": (read_markdown, "Markdown file"),
    ".txt": (read_text, "text file"),
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_READERS)

__all__ = ["MAX_BYTES", "SUPPORTED_EXTENSIONS", "ExtractedDocument", "ReaderError", "Section", "read_document"]


def read_document(path, *, max_bytes: int = MAX_BYTES) -> ExtractedDocument:
    """Read a .pdf, .pptx, .docx, .html/.htm, .md/.markdown or .txt file (chosen by its extension)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ReaderError(
            path, f"unsupported file type {suffix or '(no extension)'!r}: use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    reader, format_name = _READERS[suffix]
    data = _read_bytes(path, max_bytes)
    try:
        document = reader(path, data)
    except ReaderError:
        raise
    except Exception as exc:  # python-pptx, python-docx and lxml share no error base class, and none may escape
        raise ReaderError(path, f"not a readable {format_name}: {_summary(exc)}") from exc
    if not document.text.strip():
        raise ReaderError(path, "empty document: no text found")
    return document


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ReaderError(path, "not a file")
        if size > max_bytes:
            raise ReaderError(path, f"file too large: {_size(size)} is over the {_size(max_bytes)} limit")
        return path.read_bytes()
    except FileNotFoundError:
        raise ReaderError(path, "file not found") from None
    except PermissionError:
        raise ReaderError(path, "permission denied: cannot read the file") from None
    except OSError as exc:
        raise ReaderError(path, f"cannot read the file: {exc.strerror or exc}") from None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB ({n:,} bytes)"
    return f"{n:,} bytes"


def _summary(exc: Exception) -> str:
    message = " ".join(str(exc).split()) or "no details"
    return f"{type(exc).__name__}: {message[:200]}"
