"""Charts for an exported deck, drawn from the claim rows it shows (no database): the evidence map of the
selection and the small effect chart beside each card's number. PNG via vl-convert (render.to_png).

The map places claims with axes.cells_of, the rule the page's SQL follows, so a deck of the whole KB counts
what /-/kb/map counts. Unlike the page it draws only the rows and columns the selection occupies: a slide
of ten claims should not be a grid of 150 mostly empty cells.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingest.effects import RATIO_METRICS

from .axes import EXPOSURE_TOPICS, OTHER_EXPOSURE, OTHER_OUTCOME, OUTCOME_TOPICS, cells_of
from .queries import PERCENT_METRICS, map_counts_for_claims, signed_percent
from .render import to_png
from .specs import FONT, effect_card, evidence_map

MAP_SCALE = 3  # pixels per Vega pixel: about 250 dpi at the size the map is placed on a 16:9 slide
CARD_SCALE = 4
COLUMN_LABEL_CHARS = 11
MINUS = "\u2212"

# Signed metrics keep their sign in the value; each is drawn only beside the same metric.
SIGNED_LABELS = {
    "cohens_d": ("d", "Cohen's d (0 = no difference)"),
    "smd": ("SMD", "Standardised mean difference"),
    "correlation": ("r", "Correlation (0 = none)"),
    "mean_difference": ("MD", "Mean difference"),
    "regression_coefficient": ("b", "Regression coefficient"),
}
RATIO_LABELS = {"odds_ratio": "OR", "risk_ratio": "RR", "hazard_ratio": "HR", "fold_change": ""}


def _signed(value: float, digits: str = "g") -> str:
    text = format(abs(value), digits)
    return (MINUS if value < 0 else "+" if value > 0 else "") + text


@dataclass(frozen=True)
class Figure:
    """One plottable figure: `family` says which figures can share an axis."""

    family: str
    value: float
    text: str
    axis_title: str
    log_scale: bool = False


def plottable(metric: str | None, value: float | None, direction: str | None) -> Figure | None:
    """The figure as a point on an axis, or None when it is not a comparison a bar or dot can show
    (no metric or value, a count, a proportion, a percentage whose direction is not stated)."""
    if metric is None or value is None:
        return None
    if metric in PERCENT_METRICS and direction in ("increase", "decrease"):
        percent = signed_percent(metric, value, direction)
        return Figure("percent", percent, _signed(percent) + "%", "% change vs comparator")
    if metric == "percentage_point_change" and direction in ("increase", "decrease"):
        points = -abs(value) if direction == "decrease" else abs(value)
        return Figure("points", points, _signed(points) + " pp", "Percentage points")
    if metric in SIGNED_LABELS:
        symbol, title = SIGNED_LABELS[metric]
        return Figure(metric, value, f"{symbol} = {_signed(value).lstrip('+')}", title)
    if metric in RATIO_METRICS and value > 0:
        symbol = RATIO_LABELS.get(metric, "")
        text = f"{symbol} {value:g}" if symbol else f"{value:g}\u00d7"
        return Figure(metric, value, text, "Ratio, log scale (1 = no difference)", log_scale=True)
    return None


def card_figures(claim: Mapping, source_first: bool) -> list[tuple[str, Figure]]:
    """(row label, figure) top to bottom for a card's chart; [] when the card gets none.

    source_first: the card leads with the source's figure (a discrepant claim, search.results.headline_effect).
    Then the source's figure is the top row and the deck's sits below it as "Deck says" when it can share the
    axis. When the figure the card leads with has no number, there is no chart: a chart of the deck's figure
    alone would put the unverified number first.
    """
    deck = plottable(claim.get("effect_metric"), claim.get("effect_value"), claim.get("effect_direction"))
    if not source_first:
        if deck is None:
            return []
        # The card's qualifier says "not yet checked"; the row says whose figure it is.
        label = "Deck" if claim.get("effect_status") == "unchecked" else "Effect"
        return [(label, deck)]
    source = plottable(
        claim.get("source_effect_metric"), claim.get("source_effect_value"), claim.get("source_effect_direction")
    )
    if source is None:
        return []
    rows = [("Source", source)]
    if deck is not None and deck.family == source.family:
        rows.append(("Deck says", deck))
    return rows


def effect_chart_spec(claim: Mapping, source_first: bool) -> dict | None:
    rows = card_figures(claim, source_first)
    if not rows:
        return None
    values = [{"label": label, "value": f.value, "text": f.text, "lead": i == 0} for i, (label, f) in enumerate(rows)]
    return effect_card(values, rows[0][1].axis_title, rows[0][1].log_scale)


def effect_chart_png(claim: Mapping, source_first: bool) -> bytes | None:
    spec = effect_chart_spec(claim, source_first)
    return to_png(spec, scale=CARD_SCALE) if spec else None


# -- The evidence map of a selection --------------------------------------------------------


def fallback_label(topic: str) -> str:
    """A readable name for a topic id when the caller has no labels ("staff-wellbeing" -> "Staff wellbeing")."""
    if topic == OTHER_EXPOSURE:
        return "Other exposure"
    if topic == OTHER_OUTCOME:
        return "Other outcome"
    return topic.replace("-", " ").capitalize()


@dataclass(frozen=True)
class SelectionMap:
    title: str
    spec: dict
    counts: list[dict]  # as queries.map_counts: one row per (exposure, outcome, certainty)
    n_claims: int
    n_mapped: int
    labels: dict[str, str]

    def png(self) -> bytes:
        return to_png(self.spec, scale=MAP_SCALE)


def _legend_counts(counts: list[int], most: int = 4) -> list[int]:
    """Up to `most` whole numbers from the smallest bubble to the largest."""
    low, high = min(counts), max(counts)
    if high - low < most:
        return list(range(low, high + 1))
    step = (high - low) / (most - 1)
    return sorted({round(low + i * step) for i in range(most)})


def selection_map(claims: Iterable[Mapping], labels: Mapping[str, str] | None = None) -> SelectionMap | None:
    """The bubble map of these claim rows, or None when none of them has a place on it.

    labels: topic id -> label (queries.topic_labels); ids it lacks get fallback_label.
    """
    claims = list(claims)
    counts = map_counts_for_claims(claims)
    if not counts:
        return None
    used_rows = {r["exposure"] for r in counts}
    used_cols = {r["outcome"] for r in counts}
    rows = [t for t in (*EXPOSURE_TOPICS, OTHER_EXPOSURE) if t in used_rows]
    cols = [t for t in (*OUTCOME_TOPICS, OTHER_OUTCOME) if t in used_cols]
    names = {t: (labels or {}).get(t) or fallback_label(t) for t in rows + cols}
    # Column labels wrapped onto lines (Vega draws a label holding "\n" as lines via labelExpr below).
    drawn = {
        **names,
        **{t: "\n".join(textwrap.wrap(names[t], COLUMN_LABEL_CHARS, break_long_words=False)) for t in cols},
    }
    spec = evidence_map(counts, rows, cols, drawn, cell_step=92, row_step=44, bubble_range=(160, 1500), label_limit=400)
    title = spec.pop("title")["text"]  # the slide's own title says it, as text a screen reader finds
    x_axis = spec["layer"][0]["encoding"]["x"]["axis"]
    # Below the grid, so wrapped labels grow away from it (above it their extra lines would run into the cells).
    x_axis.update(
        orient="bottom", labelAngle=0, labelAlign="center", labelBaseline="top", labelExpr="split(datum.label, '\\n')"
    )
    for layer in spec["layer"]:
        encoding = layer["encoding"]
        encoding["x"] = {**encoding["x"], "axis": x_axis}
        for channel in ("size", "color"):
            if channel in encoding:
                encoding[channel]["legend"] = {**encoding[channel]["legend"], "orient": "right"}
        if "size" in encoding:
            # Whole claims only: Vega's default ticks would show 1.2 claims.
            encoding["size"]["legend"]["values"] = _legend_counts([r["n_claims"] for r in counts])
            encoding["size"]["legend"]["format"] = "d"
    spec["config"] = {
        "font": FONT,
        "axis": {"labelFontSize": 17, "titleFontSize": 17, "labelLimit": 400, "titlePadding": 12},
        "legend": {"labelFontSize": 16, "titleFontSize": 17, "symbolStrokeWidth": 0, "rowPadding": 6},
    }
    mapped = {c["id"] for c in claims if cells_of(c)}
    return SelectionMap(title, spec, counts, len(claims), len(mapped), names)
