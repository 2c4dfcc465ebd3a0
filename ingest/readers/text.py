"""Plain text: the text is the file itself, decoded as UTF-8."""

from __future__ import annotations

import codecs

from .base import ExtractedDocument, ReaderError, clean_text, sha256_of


def decode_utf8(path, data: bytes) -> str:
    """The file as UTF-8 (a BOM dropped, line ends and C0 controls cleaned); invalid bytes name their offset."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        decoded = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data[:offset].count(b"\n") + 1
        raise ReaderError(
            path, f"not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}); save it as UTF-8"
        ) from None
    return clean_text(decoded)


def read_text(path, data: bytes) -> ExtractedDocument:
    return ExtractedDocument(text=decode_utf8(path, data), format="txt", kind="other", file_sha256=sha256_of(data))
