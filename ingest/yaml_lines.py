"""YAML loading that remembers where each mapping and key came from.

Error messages must name the line of a bad field, so every mapping is loaded
as a `LineDict` carrying the 1-based line of the mapping and of each key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .text_files import TextFileError, read_text_exactly


class LineDict(dict):
    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            # `? [a, b]` builds a list key: unhashable, and never a field name.
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain name, not a {type(key).__name__}", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader, node, deep=False):
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class YamlSyntaxError(Exception):
    def __init__(self, path: Path, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")


# Deeper nesting than this is no curated record; PyYAML would recurse until Python's stack runs out.
MAX_DEPTH = 64


def load_yaml(path: Path):
    try:
        text = read_text_exactly(path)
    except TextFileError as exc:
        raise YamlSyntaxError(exc.path, exc.line, f"file {exc.message}") from None
    if "\x00" in text:
        raise YamlSyntaxError(Path(path), text[: text.index("\x00")].count("\n") + 1, "contains a NUL byte")
    depth = _max_depth(text)
    if depth > MAX_DEPTH:
        raise YamlSyntaxError(Path(path), None, f"nested {depth} levels deep; at most {MAX_DEPTH} are allowed")
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
        raise YamlSyntaxError(Path(path), line, f"YAML syntax error: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Path(path), None, f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlSyntaxError(Path(path), None, "nested too deeply to be a curated record") from None


def _max_depth(text: str) -> int:
    """Flow-collection nesting ([[[...]]] / {{...}}) outside quotes: the kind PyYAML recurses on without bound."""
    depth = deepest = 0
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "\n" and depth == 0:
            quote = None
    return deepest
