"""Node positions for the drawn graphs: a small layered layout, in Python.

A graph-layout library (dagre, ELK) would mean vendoring JavaScript and
drawing in the browser; the KB's graphs are tens of nodes in known layers, so
a column per layer, a sub-column per step inside a layer, and one barycentre
sweep to cut crossings are enough, and the same positions serve the SVG on
the page and the PNG in a report.
"""

from __future__ import annotations

from collections import defaultdict


def layered(nodes: list[dict], edges: list[tuple[str, str]], layers: list[str]) -> dict[str, tuple[float, float]]:
    """(x, y) per node id: x from its layer (plus its depth among same-layer links), y its row in that column."""
    layer_of = {n["id"]: n["layer"] for n in nodes}
    inside = defaultdict(list)
    for a, b in edges:
        if a in layer_of and b in layer_of and layer_of[a] == layer_of[b]:
            inside[a].append(b)
    depth = {n["id"]: 0 for n in nodes}
    # Longest path over same-layer links; at most len(nodes) rounds, so a cycle cannot loop for ever.
    for _ in range(len(nodes)):
        changed = False
        for a, targets in inside.items():
            for b in targets:
                if depth[b] < depth[a] + 1:
                    depth[b], changed = depth[a] + 1, True
        if not changed:
            break
    max_depth = {}
    for node in nodes:
        max_depth[node["layer"]] = max(max_depth.get(node["layer"], 0), min(depth[node["id"]], 3))
    # Layers wide enough for their own sub-columns, so a layer's steps never overlap the next layer.
    starts, x = {}, 0.0
    for name in layers:
        starts[name] = x
        if name in max_depth:
            x += 1 + max_depth[name]
    columns = defaultdict(list)
    for node in nodes:
        columns[starts[node["layer"]] + min(depth[node["id"]], 3)].append(node["id"])
    neighbours = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    pos: dict[str, tuple[float, float]] = {}
    for column in sorted(columns):
        # Barycentre of the neighbours already placed (to the left): fewer crossing edges.
        ids = sorted(columns[column], key=lambda n: (_centre(n, neighbours, pos), n))
        for row, node_id in enumerate(ids):
            pos[node_id] = (column, float(row))
    return pos


def _centre(node_id: str, neighbours: dict, pos: dict) -> float:
    ys = [pos[m][1] for m in neighbours[node_id] if m in pos]
    return sum(ys) / len(ys) if ys else float("inf")


def columns(nodes: list[dict], order: list[str]) -> dict[str, tuple[float, float]]:
    """(x, y) for a graph whose nodes carry a fixed column (a "kind" listed in order), rows centred."""
    by_kind = defaultdict(list)
    for node in nodes:
        by_kind[node["kind"]].append(node["id"])
    tallest = max((len(v) for v in by_kind.values()), default=1)
    pos = {}
    for x, kind in enumerate(order):
        ids = by_kind.get(kind, [])
        offset = (tallest - len(ids)) / 2
        for row, node_id in enumerate(ids):
            pos[node_id] = (float(x), offset + row)
    return pos
