"""Vega-Lite spec -> SVG or PNG, offline, with vl-convert (a Rust build of Vega with no browser or network).

vl-convert is imported on the first conversion, not with this module: kb.cite.pptx imports the charts, and
`kb --help` or `kb cite -f apa` should not pay for loading a JavaScript engine.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from .queries import ChartError

# Vega resolves a relative href against its default loader base, the vega-datasets site;
# the pages' links are local, so that prefix is cut back off.
_VEGA_BASE = re.compile(r'(xlink:href|href)="https://vega\.github\.io/vega-datasets/(?=/)')
# The KB is immutable while served: the same spec always draws the same SVG.
_CACHE: OrderedDict[str, str] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()
FORMATS = (".svg", ".png")


def to_svg(spec: dict) -> str:
    key = json.dumps(spec, sort_keys=True)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    import vl_convert

    svg = _VEGA_BASE.sub(r'\1="', vl_convert.vegalite_to_svg(spec))
    with _LOCK:
        _CACHE[key] = svg
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return svg


def to_png(spec: dict, scale: float = 2.0) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=scale)


def write(spec: dict, path: str | os.PathLike) -> Path:
    """Write the chart as SVG or PNG, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ChartError(f"{path.name}: the chart can be written as .svg or .png, not {suffix or 'no extension'}")
    if not path.parent.is_dir():
        raise ChartError(f"{path.parent} is not a folder")
    if suffix == ".svg":
        path.write_text(to_svg(spec), encoding="utf-8")
    else:
        path.write_bytes(to_png(spec))
    return path


def warm_up() -> None:
    """The first conversion starts vl-convert's JavaScript engine (~0.4 s); do it before a visitor waits."""
    to_svg({"mark": "point", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}})
