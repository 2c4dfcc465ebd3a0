"""Vega-Lite specs for the KB's charts, built from rows the queries return.

Every function takes plain rows and, optionally, link builders; with links the
marks carry `href` (the pages), without them the spec is for a file. The specs
inline their data, so vl-convert renders them offline and the page needs no
chart library.
"""

from __future__ import annotations

from collections.abc import Callable

from .axes import CERTAINTY_COLOURS, CERTAINTY_ORDER, LAYERS, OTHER_LAYER
from .layout import columns, layered
from .queries import signed_percent

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CERTAINTY_SCALE = {"domain": list(CERTAINTY_ORDER), "range": list(CERTAINTY_COLOURS)}
CERTAINTY_LEGEND = {"title": "Certainty", "orient": "bottom", "labelExpr": "replace(datum.label, '_', ' ')"}
FONT = "Helvetica, Arial, sans-serif"
LABEL_CHARS = 44


def short(text: str | None, limit: int = LABEL_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _base(title: str, **extra) -> dict:
    return {"$schema": SCHEMA, "title": {"text": title, "anchor": "start"}, "config": {"font": FONT}, **extra}


# -- Evidence map ---------------------------------------------------------------------------


def evidence_map(
    counts: list[dict],
    rows: list[str],
    cols: list[str],
    labels: dict[str, str],
    cell_url: Callable[[str, str], str] | None = None,
    *,
    cell_step: int = 46,
    row_step: int = 34,
    bubble_range: tuple[int, int] = (40, 420),
    label_limit: int = 160,
) -> dict:
    """Rows exposures, columns outcomes; a bubble per certainty level in a cell, sized by claims; empty cells drawn.

    The sizes (pixels) suit the page; a slide asks for larger cells and bubbles.
    """
    totals: dict[tuple[str, str], int] = {}
    for r in counts:
        totals[(r["exposure"], r["outcome"])] = totals.get((r["exposure"], r["outcome"]), 0) + r["n_claims"]
    grid = []
    for exposure in rows:
        for outcome in cols:
            cell = {
                "exposure": labels.get(exposure, exposure),
                "outcome": labels.get(outcome, outcome),
                "n": totals.get((exposure, outcome), 0),
            }
            if cell_url:
                cell["href"] = cell_url(exposure, outcome)
            grid.append(cell)
    bubbles = []
    for r in counts:
        bubble = {
            "exposure": labels.get(r["exposure"], r["exposure"]),
            "outcome": labels.get(r["outcome"], r["outcome"]),
            "certainty": r["certainty"],
            "n": r["n_claims"],
        }
        if cell_url:
            bubble["href"] = cell_url(r["exposure"], r["outcome"])
        bubbles.append(bubble)
    # Several certainty levels in one cell are drawn concentric, the largest first, so every one stays visible
    # (an xOffset channel would set them side by side but shifts the band positions in a layered chart).
    bubbles.sort(key=lambda b: -b["n"])
    y = {
        "field": "exposure",
        "type": "nominal",
        "sort": [labels.get(t, t) for t in rows],
        "title": "Intervention or exposure",
    }
    x = {
        "field": "outcome",
        "type": "nominal",
        "sort": [labels.get(t, t) for t in cols],
        "title": "Outcome",
        "axis": {"orient": "top", "labelAngle": -40, "labelAlign": "left", "labelLimit": label_limit},
    }
    href = {"href": {"field": "href"}} if cell_url else {}
    return _base(
        "Evidence map: claims by intervention and outcome",
        width={"step": cell_step},
        height={"step": row_step},
        layer=[
            {
                "data": {"values": grid},
                "mark": {
                    "type": "rect",
                    "stroke": "#d0d5dc",
                    "strokeWidth": 1,
                    "cursor": "pointer" if cell_url else "default",
                },
                "encoding": {
                    "x": x,
                    "y": y,
                    "fill": {"condition": {"test": "datum.n == 0", "value": "#fafafa"}, "value": "#eef3f8"},
                    "tooltip": [{"field": "exposure"}, {"field": "outcome"}, {"field": "n", "title": "claims"}],
                    **href,
                },
            },
            {
                "data": {"values": bubbles},
                "mark": {"type": "circle", "opacity": 0.9, "stroke": "white", "strokeWidth": 0.5},
                "encoding": {
                    "x": x,
                    "y": y,
                    "size": {
                        "field": "n",
                        "type": "quantitative",
                        "title": "Claims",
                        "scale": {"range": list(bubble_range), "zero": False},
                        "legend": {"orient": "bottom"},
                    },
                    "color": {
                        "field": "certainty",
                        "type": "nominal",
                        "scale": CERTAINTY_SCALE,
                        "legend": CERTAINTY_LEGEND,
                    },
                    "tooltip": [
                        {"field": "exposure"},
                        {"field": "outcome"},
                        {"field": "certainty"},
                        {"field": "n", "title": "claims"},
                    ],
                    **href,
                },
            },
        ],
    )


# -- Effects --------------------------------------------------------------------------------

ARROWS = {"increase": "▲", "decrease": "▼", "no_change": "◆", "mixed": "◇"}


def effect_points(rows: list[dict]) -> list[dict]:
    """One point per figure: the deck's, and the source's where it was checked."""
    points = []
    for r in rows:
        label = short(r["statement"], 60)
        for figure, prefix in (("deck", "effect"), ("source", "source_effect")):
            metric, value, direction = r[f"{prefix}_metric"], r[f"{prefix}_value"], r[f"{prefix}_direction"]
            if metric is None and direction is None:
                continue
            points.append(
                {
                    "id": r["id"],
                    "claim": label,
                    "figure": figure,
                    "certainty": r["certainty"],
                    "status": r["effect_status"] or "unchecked",
                    "direction": direction or "",
                    "arrow": ARROWS.get(direction or "", "•"),
                    "percent": signed_percent(metric, value, direction),
                    "text": short(r[f"{prefix}_text"], 90),
                    "metric": (metric or "").replace("_", " "),
                }
            )
    return points


def effect_card(figures: list[dict], axis_title: str, log_scale: bool = False) -> dict:
    """The small chart beside an evidence card's number: one bar per figure from the line of no effect (0),
    or a dot on a log axis for a ratio (no effect at 1), each labelled with its value.

    figures: [{"label", "value", "text", "lead"}] top to bottom, so the figure the card leads with is first.
    The lead is drawn in the card's accent colour, the other (the deck's, when it disagrees) in grey.
    """
    values = [f["value"] for f in figures]
    reference = 1 if log_scale else 0
    if log_scale:
        low, high = min(values + [1]), max(values + [1])
        domain = [low / 3, high * 3]
    else:
        low, high = min(values + [0]), max(values + [0])
        span = (high - low) or 1
        # Room beyond the bars' ends for the value labels.
        domain = [low - span * 0.9 if low < 0 else 0, high + span * 0.9 if high > 0 else 0]
    order = [f["label"] for f in figures]
    y = {
        "field": "label",
        "type": "nominal",
        "sort": order,
        "title": None,
        "axis": {"labelFontSize": 20, "labelColor": "#1f2937", "ticks": False, "domain": False, "labelPadding": 6},
    }
    x = {
        "field": "value",
        "type": "quantitative",
        "scale": {"domain": domain, "nice": False, **({"type": "log"} if log_scale else {})},
        "axis": {"labels": False, "ticks": False, "grid": False, "domain": False, "title": axis_title},
    }
    colour = {
        "field": "lead",
        "type": "nominal",
        "scale": {"domain": [True, False], "range": ["#0f766e", "#9ca3af"]},
        "legend": None,
    }
    negative = f"datum.value < {reference}"
    mark = (
        {"type": "point", "filled": True, "size": 260, "opacity": 1}
        if log_scale
        else {"type": "bar", "height": {"band": 0.62}}
    )
    return {
        "$schema": SCHEMA,
        "config": {"font": FONT, "view": {"stroke": None}, "axis": {"titleFontSize": 16, "titleColor": "#6b7280"}},
        # Narrow, so the text stays large when the chart is placed 2.7 inches wide beside the number.
        "width": 150,
        "height": {"step": 40},
        "data": {"values": figures},
        "layer": [
            {
                "mark": {"type": "rule", "color": "#6b7280", "strokeWidth": 1.5},
                "encoding": {"x": {"datum": reference, "type": "quantitative"}},
            },
            {"mark": mark, "encoding": {"y": y, "x": x, "color": colour}},
            {
                "mark": {
                    "type": "text",
                    "fontSize": 20,
                    "fontWeight": "bold",
                    "color": "#1f2937",
                    "align": {"expr": f"{negative} ? 'right' : 'left'"},
                    "dx": {"expr": f"{negative} ? -{9 if log_scale else 5} : {9 if log_scale else 5}"},
                },
                "encoding": {"y": y, "x": x, "text": {"field": "text"}},
            },
        ],
    }


def effect_direction(rows: list[dict], claim_url: Callable[[str], str] | None = None) -> dict:
    """Thomson & Thomas's effect-direction plot: an arrow per figure, then the size where it is a percentage.

    Deck and source side by side on each row, joined by a red line when they
    disagree, so a discrepancy shows at a glance.
    """
    points = effect_points(rows)
    if claim_url:
        for p in points:
            p["href"] = claim_url(p["id"])
    order = list(dict.fromkeys(p["claim"] for p in points))
    # One explicit domain, so both panels list every claim in the same rows.
    y = {"field": "claim", "type": "nominal", "sort": order, "scale": {"domain": order}, "title": None}
    href = {"href": {"field": "href"}} if claim_url else {}
    colour = {"field": "certainty", "type": "nominal", "scale": CERTAINTY_SCALE, "legend": CERTAINTY_LEGEND}
    tooltip = [{"field": "claim"}, {"field": "figure"}, {"field": "text"}, {"field": "status"}]
    y = {**y, "axis": {"labelLimit": 320}}
    direction_panel = {
        "width": 70,
        "height": {"step": 24},
        "mark": {"type": "text", "fontSize": 15},
        "encoding": {
            "y": y,
            "x": {
                "field": "figure",
                "type": "nominal",
                "sort": ["deck", "source"],
                "title": "Direction",
                "axis": {"orient": "top", "labelAngle": 0},
            },
            "text": {"field": "arrow"},
            "color": colour,
            "tooltip": tooltip,
            **href,
        },
    }
    percent = [p for p in points if p["percent"] is not None]
    y_bare = {**y, "axis": {"labels": False, "ticks": False, "domain": False, "title": None}}
    size_panel = {
        "width": 300,
        "height": {"step": 24},
        "layer": [
            {"mark": {"type": "rule", "color": "#888", "strokeDash": [3, 3]}, "encoding": {"x": {"datum": 0}}},
            {
                "data": {"values": _discrepancy_segments(percent)},
                "mark": {"type": "rule", "color": "#c0392b", "strokeWidth": 2},
                "encoding": {"y": y_bare, "x": {"field": "deck", "type": "quantitative"}, "x2": {"field": "source"}},
            },
            {
                "data": {"values": percent},
                "mark": {"type": "point", "filled": True, "size": 90},
                "encoding": {
                    "y": y_bare,
                    "x": {
                        "field": "percent",
                        "type": "quantitative",
                        "title": "Change vs comparator (%)",
                        "axis": {"orient": "top"},
                    },
                    "shape": {
                        "field": "figure",
                        "type": "nominal",
                        "scale": {"domain": ["deck", "source"], "range": ["circle", "diamond"]},
                        "legend": {"title": "Figure", "orient": "bottom"},
                    },
                    "color": colour,
                    "tooltip": tooltip,
                    **href,
                },
            },
        ],
    }
    return _base(
        "Effect direction: every claim with an effect (deck vs source)",
        data={"values": points},
        hconcat=[direction_panel, size_panel],
    )


def _discrepancy_segments(percent_points: list[dict]) -> list[dict]:
    by_claim: dict[str, dict] = {}
    for p in percent_points:
        if p["status"] == "discrepant":
            by_claim.setdefault(p["id"], {"claim": p["claim"]})[p["figure"]] = p["percent"]
    return [s for s in by_claim.values() if "deck" in s and "source" in s]


def forest(rows: list[dict], claim_url: Callable[[str], str] | None = None) -> dict:
    """A forest plot on a log axis: each ratio with its interval, the line of no effect at 1."""
    data = [
        {
            "claim": short(r["statement"], 60),
            "value": r["effect_value"],
            "low": r["effect_ci_low"],
            "high": r["effect_ci_high"],
            "certainty": r["certainty"],
            "metric": (r["effect_metric"] or "").replace("_", " "),
            **({"href": claim_url(r["id"])} if claim_url else {}),
        }
        for r in rows
    ]
    y = {"field": "claim", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 320}}
    x = {"type": "quantitative", "scale": {"type": "log"}, "title": "Ratio (log scale)"}
    href = {"href": {"field": "href"}} if claim_url else {}
    return _base(
        "Forest plot: ratios with their intervals",
        data={"values": data},
        width=360,
        height={"step": 24},
        layer=[
            {"mark": {"type": "rule", "color": "#888", "strokeDash": [3, 3]}, "encoding": {"x": {"datum": 1}}},
            {"mark": "rule", "encoding": {"y": y, "x": {"field": "low", **x}, "x2": {"field": "high"}}},
            {
                "mark": {"type": "square", "size": 80},
                "encoding": {
                    "y": y,
                    "x": {"field": "value", **x},
                    "color": {
                        "field": "certainty",
                        "type": "nominal",
                        "scale": CERTAINTY_SCALE,
                        "legend": CERTAINTY_LEGEND,
                    },
                    "tooltip": [
                        {"field": "claim"},
                        {"field": "metric"},
                        {"field": "value"},
                        {"field": "low"},
                        {"field": "high"},
                    ],
                    **href,
                },
            },
        ],
    )


# -- Graphs ---------------------------------------------------------------------------------


def _graph(
    title: str,
    nodes: list[dict],
    edges: list[dict],
    pos: dict,
    colour_field: str,
    colour_scale: dict,
    width: int,
    row_height: int = 46,
) -> dict:
    """Nodes at given (x, y), straight edges with a label at their middle; nodes link where they carry href."""
    node_values = [{**n, "x": pos[n["id"]][0], "y": pos[n["id"]][1]} for n in nodes if n["id"] in pos]
    edge_values = []
    for e in edges:
        if e["from"] in pos and e["to"] in pos:
            (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
            edge_values.append(
                {"x": x1, "y": y1, "x2": x2, "y2": y2, "mx": (x1 + x2) / 2, "my": (y1 + y2) / 2, "label": e["label"]}
            )
    n_rows = max((p[1] for p in pos.values()), default=0) + 1
    xs = {
        "type": "quantitative",
        "axis": None,
        "scale": {"domain": [-0.3, max((p[0] for p in pos.values()), default=0) + 0.9]},
    }
    ys = {"type": "quantitative", "axis": None, "scale": {"domain": [-0.6, n_rows - 0.5], "reverse": True}}
    has_href = any("href" in n for n in node_values)
    return _base(
        title,
        width=width,
        height=int(n_rows * row_height),
        layer=[
            {
                "data": {"values": edge_values},
                "mark": {"type": "rule", "color": "#9aa5b1", "strokeWidth": 1.3},
                "encoding": {
                    "x": {"field": "x", **xs},
                    "y": {"field": "y", **ys},
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                },
            },
            {
                "data": {"values": edge_values},
                "mark": {"type": "text", "fontSize": 9, "color": "#52606d", "dy": -4},
                "encoding": {"x": {"field": "mx", **xs}, "y": {"field": "my", **ys}, "text": {"field": "label"}},
            },
            {
                "data": {"values": node_values},
                "mark": {"type": "circle", "size": 160, "stroke": "#333", "strokeWidth": 0.6, "opacity": 1},
                "encoding": {
                    "x": {"field": "x", **xs},
                    "y": {"field": "y", **ys},
                    "color": {
                        "field": colour_field,
                        "type": "nominal",
                        "scale": colour_scale,
                        "legend": {
                            "orient": "bottom",
                            "title": colour_field.replace("_", " ").capitalize(),
                            "labelExpr": "replace(datum.label, '_', ' ')",
                        },
                    },
                    "tooltip": [{"field": "full", "title": "node"}],
                    **({"href": {"field": "href"}} if has_href else {}),
                },
            },
            {
                "data": {"values": node_values},
                "mark": {"type": "text", "align": "left", "dx": 9, "fontSize": 10, "limit": 190},
                "encoding": {
                    "x": {"field": "x", **xs},
                    "y": {"field": "y", **ys},
                    "text": {"field": "label"},
                    **({"href": {"field": "href"}} if has_href else {}),
                },
            },
        ],
    )


def _node(node: dict, text: str, limit: int, colour_field: str, href: str | None) -> dict:
    shown = {"id": node["id"], "label": short(text, limit), "full": text, colour_field: node[colour_field]}
    return {**shown, "href": href} if href else shown


def value_chain(nodes: list[dict], edges: list[dict], claim_url: Callable[[str], str] | None = None) -> dict:
    """claim_relations as a layered graph, leadership -> staff -> patients -> finances, edges labelled."""
    layers = [name for name, _ in LAYERS] + [OTHER_LAYER]
    pos = layered(nodes, [(e["from_claim"], e["to_claim"]) for e in edges], layers)
    shown = [_node(n, n["statement"], 34, "certainty", claim_url(n["id"]) if claim_url else None) for n in nodes]
    labelled = [{"from": e["from_claim"], "to": e["to_claim"], "label": e["relation"].replace("_", " ")} for e in edges]
    n_columns = max((p[0] for p in pos.values()), default=0) + 1
    spec = _graph(
        "Claim graph: the value chain and other links between claims",
        shown,
        labelled,
        pos,
        "certainty",
        CERTAINTY_SCALE,
        width=int(max(n_columns, 2) * 210),
    )
    spec["layer"].insert(0, _layer_headings(nodes, pos))
    return spec


def _layer_headings(nodes: list[dict], pos: dict) -> dict:
    first = {}
    for n in nodes:
        x = pos[n["id"]][0]
        first[n["layer"]] = min(first.get(n["layer"], x), x)
    values = [{"x": x, "y": -0.6, "label": layer} for layer, x in first.items()]
    return {
        "data": {"values": values},
        "mark": {
            "type": "text",
            "align": "left",
            "fontWeight": "bold",
            "fontSize": 12,
            "color": "#1f3a5f",
            "baseline": "top",
        },
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "axis": None},
            "y": {"field": "y", "type": "quantitative", "axis": None, "scale": {"reverse": True}},
            "text": {"field": "label"},
        },
    }


SOURCE_KINDS = ["author", "source", "claim", "co-cited"]
SOURCE_COLOURS = {"domain": SOURCE_KINDS, "range": ["#6c8ebf", "#1f3a5f", "#f1a340", "#b3b3b3"]}


def source_graph(nodes: list[dict], edges: list[dict], url_for: Callable[[dict], str] | None = None) -> dict:
    """Authors -> the source -> the claims citing it <- works co-cited with it."""
    pos = columns(nodes, SOURCE_KINDS)
    shown = [_node(n, n["label"], 30, "kind", url_for(n) if url_for else None) for n in nodes]
    return _graph(
        "Who wrote it, what cites it, what is cited with it",
        shown,
        edges,
        pos,
        "kind",
        SOURCE_COLOURS,
        width=760,
        row_height=30,
    )
