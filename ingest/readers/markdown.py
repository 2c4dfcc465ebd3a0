"""Markdown: the text is the file itself (as for .txt); headings become sections.

markdown-it-py finds the headings (ATX and setext, never a `#` inside a code
block) and its token `.map` gives their line numbers, which are exact in the
unchanged text. A YAML front matter block (`---` … `---` at the top) is what
the file says about itself: its title/author/date fill the metadata.
"""

from __future__ import annotations

import yaml
from markdown_it import MarkdownIt

from .base import ExtractedDocument, clean_text, heading_sections, line_starts, meaningful, sha256_of, year_of
from .text import decode_utf8

_FRONT_MATTER_FENCE = "---"
_FRONT_MATTER_END = ("---", "...")


def read_markdown(path, data: bytes) -> ExtractedDocument:
    text = decode_utf8(path, data)
    lines = text.split("\n")
    front_lines = _front_matter_length(lines)
    meta = _front_matter(lines[1 : front_lines - 1]) if front_lines else {}
    # The front matter would parse as a rule plus a setext heading: blank it, keeping the line count for .map.
    body = "\n" * front_lines + "\n".join(lines[front_lines:])
    starts = line_starts(text)
    headings = []
    tokens = MarkdownIt("commonmark").parse(body)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            label = _plain(tokens[i + 1])
            if label:
                headings.append((int(token.tag[1:]), label, starts[token.map[0]]))
    return ExtractedDocument(
        text=text,
        format="md",
        kind="other",
        file_sha256=sha256_of(data),
        title=meaningful(_as_text(meta.get("title"))),
        author=meaningful(_as_text(meta.get("author") or meta.get("authors"))),
        year=year_of(meta.get("date") or meta.get("year")),
        sections=heading_sections(headings, len(text)),
        line_starts=starts,
    )


def _front_matter_length(lines: list[str]) -> int:
    """Lines taken by a front matter block at the very top, fences included; 0 when there is none."""
    if not lines or lines[0].rstrip() != _FRONT_MATTER_FENCE:
        return 0
    for n, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _FRONT_MATTER_END:
            return n + 1
    return 0


def _front_matter(lines: list[str]) -> dict:
    try:
        meta = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:  # a block that is not YAML says nothing we can trust
        return {}
    return meta if isinstance(meta, dict) else {}


def _as_text(value) -> str | None:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v)
    return None if value is None or isinstance(value, dict) else str(value)


def _plain(inline) -> str:
    """The heading's words without markup (emphasis, links and code spans keep their text)."""
    words = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif child.type == "image":
            words.append(child.content)
    return clean_text(" ".join("".join(words).split()))
