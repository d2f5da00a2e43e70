"""Server-rendered SVG charts for the metrics dashboard: readable without JavaScript or colour.

Three charts, each returned as `Markup` so a Jinja template can place it inline:

- `rate_bars`: one horizontal bar per unit, its rate against that unit's own target tick;
- `trend_line`: the monthly rate (up to 24 months) against a dashed target line;
- `share_bars`: stacked 100 % bars of publications made on time, late and still pending.

Every chart is an accessible image (`role="img"`, a Chinese `<title>` and `<desc>` that spells out
the data) and prints every value as text, so colour only repeats what the words already say. The
geometry lives in a 304-unit-wide viewBox drawn at `width="100%"`: on a 360 px phone the chart is
310 px wide inside the page padding and the dashboard's `figure.chart` frame, so the 12-unit type
renders at 12 px or more; a `max-width` keeps it from growing huge on a desktop. No script, no
external font (the site's own font stack), no randomness: the same input gives the same bytes, ids
included.

Rates are fractions (0.8 = 80 %). Percentages are printed to one decimal as the dashboard's tables
print them, except that a rate below its target is never rounded up to it (0.7996 against 80 %
prints "79.9%", not "80%"): a printed number never claims a target the bar's colour says was missed.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from guides.i18n import _

# The palette of static/css/site.css.
BLUE = "#0b4f9c"
RED = "#c8161d"
OK = "#1f7a3a"
WARN = "#9a4b00"
MUTED = "#5b6675"
LINE = "#d9dee5"
INK = "#1d2733"
TRACK = "#eef1f5"  # the empty part of a bar (the site's .tag background)
PENDING = "#a3acb8"  # grey for "not yet decided"
WHITE = "#fff"

WIDTH = 304  # viewBox width; the chart is drawn at width="100%"
FONT = 12  # the one type size (viewBox units): >= 12 px whenever the chart is >= 304 px wide
PHONE_WIDTH = 310  # px a chart gets on a 360 px phone: 360 - 2 x 16 (.wrap) - 2 x 9 (figure.chart)
# .chart-svg in static/css/site.css caps the width at 30rem (type ~19 px, not 40 px); a CSS
# rule, not a style= attribute, so the strict Content-Security-Policy allows it.
FONT_FAMILY = (
    "'PingFang SC', 'Hiragino Sans GB', 'Noto Sans CJK SC', 'Source Han Sans SC', "
    "'Microsoft YaHei', system-ui, sans-serif"
)
PAD = 8  # outer margin
GRID = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # the 0-100 % gridlines

# Horizontal bar charts (rate_bars, share_bars).
LABEL_WIDTH = 96  # label column: 8 Chinese characters a line, at most 2 lines
PLOT_X = PAD + LABEL_WIDTH + 8  # where the 0 % line is
RIGHT = 44  # room after a full bar for "100%"
PLOT_WIDTH = WIDTH - PLOT_X - RIGHT
ROW_HEIGHT = 46  # a row with a one-line caption; each further caption line adds CAPTION_LINE
CAPTION_LINE = 16
BAR_HEIGHT = 16
BAR_TOP = 4  # bar offset inside its row; the caption line sits under the bar
LEGEND_Y = 18  # baselines of the legend line and of the axis labels
AXIS_Y = 40

# trend_line.
TREND_X = 42  # room on the left for "100%"
TREND_RIGHT = WIDTH - 14
TREND_TOP = 16
TREND_HEIGHT = 150
TREND_INSET = 6  # first and last dot stay off the plot edges
CELL_HEIGHT = 18  # the table of values under the line


@dataclass(frozen=True)
class BarRow:
    """One unit in `rate_bars`: `rate` is None when the unit has no items."""

    label: str
    rate: float | None
    target: float | None
    items: int
    href: str | None = None


@dataclass(frozen=True)
class TrendPoint:
    """One month in `trend_line`: `rate` is None when there is nothing to measure (a gap)."""

    label: str
    rate: float | None


@dataclass(frozen=True)
class ShareRow:
    """One month or unit in `share_bars`: publications made on time, late, and not yet made."""

    label: str
    on_time: int
    late: int
    pending: int = 0


# ---------------------------------------------------------------------------------------------------------
# Public charts


def rate_bars(rows: Sequence[BarRow], *, title: str) -> Markup:
    """Horizontal bars of each row's rate on a 0-100 % axis, each with its own target tick.

    The bar is green when the rate reaches the row's target, dark orange when below (blue when the
    row has no target); the caption under it repeats that in words with the item count and target.
    A row with an `href` links its label (plain SVG link, no script).
    """
    legend = _legend([(OK, _("达到目标")), (WARN, _("低于目标")), (None, _("目标"))])
    rows_top = AXIS_Y + 8
    if not rows:
        return _empty(title, _("没有可显示的数据。"), legend, rows_top)
    drawn: list[str] = []
    y = last_bar = rows_top
    for row in rows:
        row_parts, height = _rate_row(row, y)
        drawn.extend(row_parts)
        last_bar = y + BAR_TOP + BAR_HEIGHT
        y += height
    parts = [*legend, *_grid_labels(), *_gridlines(AXIS_Y + 4, last_bar + 4), *drawn]
    descriptions = [_rate_sentence(row) for row in rows]
    summary = _("横向条形图，每行一个单位，横轴 0%–100%，竖线为该行目标：")
    return _svg("rates", title, summary + "；".join(descriptions) + "。", parts, y + 4)


def trend_line(points: Sequence[TrendPoint], *, target: float | None, title: str) -> Markup:
    """The monthly rate as a line over a 0-100 % axis, a dashed target line, gaps where rate is None.

    Month labels under the axis are thinned so they never overlap; every month's value is printed
    in a small table under the chart.
    """
    plot_bottom = TREND_TOP + TREND_HEIGHT
    parts: list[str] = []
    for value in GRID:
        y = _trend_y(value)
        parts.append(_line(TREND_X, y, TREND_RIGHT, y, stroke=LINE, cls="grid"))
        parts.append(_text(TREND_X - 6, y + 4, _pct(value), anchor="end", fill=MUTED, cls="axis"))
    if not points:
        return _empty(title, _("没有可显示的数据。"), parts, TREND_TOP + TREND_HEIGHT / 2 - 12)

    xs = _trend_xs(len(points))
    known = [(x, p.rate) for x, p in zip(xs, points, strict=True) if p.rate is not None]
    target_box = None
    if target is not None:
        target_box = _target_label_box(target, [(x, _trend_y(rate)) for x, rate in known])
        parts.extend(_target_line(target, target_box))

    runs: list[list[str]] = [[]]
    for x, point in zip(xs, points, strict=True):
        if point.rate is None:
            runs.append([])
        else:
            runs[-1].append(f"{_num(x)},{_num(_trend_y(point.rate))}")
    for run in runs:
        if len(run) > 1:
            parts.append(
                _tag(
                    "polyline",
                    cls="line",
                    points=" ".join(run),
                    fill="none",
                    stroke=BLUE,
                    **{"stroke-width": 2, "stroke-linejoin": "round"},
                )
            )
    for x, point in zip(xs, points, strict=True):
        if point.rate is not None:
            dot = {"cx": _num(x), "cy": _num(_trend_y(point.rate)), "r": 3}
            parts.append(_tag("circle", cls="dot", fill=BLUE, **dot))

    if known:  # the latest value, written by its dot
        x, rate = known[-1]
        parts.append(_latest_label(x, rate, target, target_box))

    parts.extend(_month_labels(points, xs, plot_bottom + 18))
    table, table_bottom = _value_table(points, target, plot_bottom + 36)
    parts.extend(table)

    sentences = [
        _("{month} {value}", month=p.label, value=_pct(p.rate, target) if p.rate is not None else _("无数据"))
        for p in points
    ]
    summary = _("折线图，共 {n} 个月，纵轴 0%–100%", n=len(points))
    if target is not None:
        summary += _("，虚线为目标 {target}", target=_pct(target))
    return _svg("trend", title, summary + "：" + "；".join(sentences) + "。", parts, table_bottom + 4)


def share_bars(rows: Sequence[ShareRow], *, title: str) -> Markup:
    """Stacked 100 % bars: on time (green), late (red), pending (grey), counts printed under each.

    The percentage at the end of a bar is the on-time share of publications already made,
    on_time / (on_time + late): pending ones have not met or missed their deadline yet. It reads
    "—" when nothing has been published.
    """
    legend = _legend([(OK, _("按时")), (RED, _("超时")), (PENDING, _("待发布"))])
    rows_top = AXIS_Y + 8
    if not rows:
        return _empty(title, _("没有可显示的数据。"), legend, rows_top)
    parts = [*legend, _text(WIDTH - 2, AXIS_Y, _("按时率"), anchor="end", fill=MUTED, cls="axis")]
    y = rows_top
    for row in rows:
        row_parts, height = _share_row(row, y)
        parts.extend(row_parts)
        y += height
    descriptions = [_share_sentence(row) for row in rows]
    summary = _("堆叠条形图，每行为按时、超时、待发布的发布数占比，按时率按已发布数计算：")
    return _svg("shares", title, summary + "；".join(descriptions) + "。", parts, y + 4)


# ---------------------------------------------------------------------------------------------------------
# rate_bars pieces


def _rate_colour(row: BarRow) -> str:
    if row.rate is None or row.target is None:
        return BLUE
    return OK if row.rate >= row.target else WARN


def _rate_status(row: BarRow) -> str | None:
    if row.rate is None or row.target is None:
        return None
    return _("达到目标") if row.rate >= row.target else _("低于目标")


def _rate_row(row: BarRow, y: float) -> tuple[list[str], float]:
    bar_y = y + BAR_TOP
    middle = bar_y + BAR_HEIGHT / 2
    parts = [*_row_label(row.label, y, row.href)]
    parts.append(_rect(PLOT_X, bar_y, PLOT_WIDTH, BAR_HEIGHT, fill=TRACK, cls="track"))
    tick_x = None if row.target is None else PLOT_X + _clamp(row.target) * PLOT_WIDTH
    if row.rate is None:
        parts.append(_text(PLOT_X + 4, middle + 4, _("无事项"), fill=MUTED, cls="value"))
    else:
        end = PLOT_X + _clamp(row.rate) * PLOT_WIDTH
        parts.append(_rect(PLOT_X, bar_y, end - PLOT_X, BAR_HEIGHT, fill=_rate_colour(row), cls="bar"))
        value = _pct(row.rate, row.target)
        value_x = end + 4
        # A target tick just past the bar end would run through the number: write it after the tick.
        if tick_x is not None and end <= tick_x < end + _text_width(value, bold=True) + 8:
            value_x = tick_x + 4
        parts.append(_text(value_x, middle + 4, value, fill=INK, bold=True, halo=True, cls="value"))
    if tick_x is not None:
        parts.append(
            _line(tick_x, bar_y - 3, tick_x, bar_y + BAR_HEIGHT + 3, stroke=INK, width=2, cls="target")
        )

    caption = [(_("{n} 项", n=row.items), MUTED, False)]
    if row.target is not None:
        caption.append((_("目标 {target}", target=_pct(row.target)), MUTED, False))
    status = _rate_status(row)
    if status is not None:
        caption.append((status, _rate_colour(row), True))
    text, height = _caption(bar_y + BAR_HEIGHT + 17, caption)
    return [*parts, text], ROW_HEIGHT + height - CAPTION_LINE


def _rate_sentence(row: BarRow) -> str:
    pieces = [_pct(row.rate, row.target) if row.rate is not None else _("无事项"), _("{n} 项", n=row.items)]
    if row.target is not None:
        pieces.append(_("目标 {target}", target=_pct(row.target)))
    status = _rate_status(row)
    if status is not None:
        pieces.append(status)
    return _("{label}：{values}", label=row.label, values="，".join(pieces))


# ---------------------------------------------------------------------------------------------------------
# share_bars pieces


def _share_row(row: ShareRow, y: float) -> tuple[list[str], float]:
    if min(row.on_time, row.late, row.pending) < 0:
        raise ValueError(f"negative count in {row!r}")
    bar_y = y + BAR_TOP
    middle = bar_y + BAR_HEIGHT / 2
    total = row.on_time + row.late + row.pending
    parts = [*_row_label(row.label, y, None)]
    parts.append(_rect(PLOT_X, bar_y, PLOT_WIDTH, BAR_HEIGHT, fill=TRACK, cls="track"))
    if total == 0:
        parts.append(_text(PLOT_X + 4, middle + 4, _("无发布"), fill=MUTED, cls="value"))
    else:
        # Boundaries are cumulative, so the segments always add up to the full width exactly.
        start = PLOT_X
        running = 0
        for count, colour, cls in (
            (row.on_time, OK, "on-time"),
            (row.late, RED, "late"),
            (row.pending, PENDING, "pending"),
        ):
            running += count
            end = PLOT_X + PLOT_WIDTH * running / total
            if count:
                parts.append(_rect(start, bar_y, end - start, BAR_HEIGHT, fill=colour, cls=f"segment {cls}"))
                if start > PLOT_X:  # a white seam, so the segments stay apart in greyscale too
                    parts.append(_line(start, bar_y, start, bar_y + BAR_HEIGHT, stroke=WHITE, cls="seam"))
            start = end
    share = _share(row)
    parts.append(
        _text(
            PLOT_X + PLOT_WIDTH + 4,
            middle + 4,
            _pct(share) if share is not None else "—",
            fill=INK,
            bold=True,
            cls="value",
        )
    )
    text, height = _caption(bar_y + BAR_HEIGHT + 17, [(c, MUTED, False) for c in _share_counts(row)])
    return [*parts, text], ROW_HEIGHT + height - CAPTION_LINE


def _share(row: ShareRow) -> float | None:
    made = row.on_time + row.late
    return row.on_time / made if made else None


def _share_counts(row: ShareRow) -> list[str]:
    counts = [_("按时 {n}", n=row.on_time), _("超时 {n}", n=row.late)]
    if row.pending:
        counts.append(_("待发布 {n}", n=row.pending))
    return counts


def _share_sentence(row: ShareRow) -> str:
    share = _share(row)
    rate = _("按时率 {rate}", rate=_pct(share)) if share is not None else _("尚无发布")
    return _("{label}：{values}", label=row.label, values="，".join([rate, *_share_counts(row)]))


# ---------------------------------------------------------------------------------------------------------
# trend_line pieces


def _trend_y(rate: float) -> float:
    return TREND_TOP + (1 - _clamp(rate)) * TREND_HEIGHT


def _trend_xs(count: int) -> list[float]:
    left, right = TREND_X + TREND_INSET, TREND_RIGHT - TREND_INSET
    if count == 1:
        return [(left + right) / 2]
    step = (right - left) / (count - 1)
    return [left + i * step for i in range(count)]


Box = tuple[float, float, float, float]  # left, right, top, bottom


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _target_label_box(target: float, dots: Sequence[tuple[float, float]]) -> Box:
    """Where "目标 80%" goes: by its line, above it (below near 100 %), left, middle or right,
    the first place that covers no dot of the line."""
    y = _trend_y(target)
    width = _text_width(_("目标 {target}", target=_pct(target)), bold=True)
    above, below = y - 5, y + 5 + FONT
    baselines = (above, below) if target < 0.9 else (below, above)
    lefts = (TREND_X + 4, (TREND_X + TREND_RIGHT - width) / 2, TREND_RIGHT - 4 - width)
    candidates = [(left, left + width, b - FONT, b + 3) for left in lefts for b in baselines]
    clear = (
        box for box in candidates if not any(_overlaps(box, (x - 5, x + 5, y - 5, y + 5)) for x, y in dots)
    )
    return next(clear, candidates[0])


def _target_line(target: float, box: Box) -> list[str]:
    y = _trend_y(target)
    return [
        _line(TREND_X, y, TREND_RIGHT, y, stroke=RED, width=1.5, cls="target", dash="6 4"),
        _text(
            box[0],
            box[2] + FONT,
            _("目标 {target}", target=_pct(target)),
            fill=RED,
            bold=True,
            halo=True,
            cls="target-label",
        ),
    ]


def _latest_label(x: float, rate: float, target: float | None, target_box: Box | None) -> str:
    """Above its dot, or below when above would leave the chart or cover the target's label."""
    value = _pct(rate, target)
    width = _text_width(value, bold=True)
    centre = min(max(x, TREND_X + width / 2 + 2), TREND_RIGHT - width / 2)
    y = _trend_y(rate)
    baseline = y - 8
    box = (centre - width / 2, centre + width / 2, baseline - FONT, baseline + 3)
    if baseline - FONT < 2 or (target_box is not None and _overlaps(box, target_box)):
        baseline = y + 8 + FONT
    return _text(centre, baseline, value, anchor="middle", fill=INK, bold=True, halo=True, cls="latest")


def _month_labels(points: Sequence[TrendPoint], xs: Sequence[float], y: float) -> list[str]:
    """Every `stride`-th month, counted back from the latest, so neighbouring labels never touch."""
    widest = max(_text_width(p.label) for p in points)
    spacing = xs[1] - xs[0] if len(xs) > 1 else math.inf
    stride = next((k for k in (1, 2, 3, 4, 6, 12, 24) if k * spacing >= widest + 10), len(points))
    parts = []
    last = len(points) - 1
    for i in range(last, -1, -stride):
        half = _text_width(points[i].label) / 2
        x = min(max(xs[i], 2 + half), WIDTH - 2 - half)
        parts.append(_line(xs[i], y - 18, xs[i], y - 13, stroke=MUTED, cls="tick"))
        parts.append(_text(x, y, points[i].label, anchor="middle", fill=MUTED, cls="month"))
    return parts[::-1]


def _value_table(points: Sequence[TrendPoint], target: float | None, top: float) -> tuple[list[str], float]:
    """All months with their value, left to right then down, in as many columns as fit."""
    values = [_pct(p.rate, target) if p.rate is not None else _("无数据") for p in points]
    widest_label = max(_text_width(p.label) for p in points)
    widest_value = max(_text_width(v) for v in values)  # the estimate has room for bold digits
    gap = 8
    cell = widest_label + 4 + widest_value + gap
    columns = max(1, min(len(points), int((WIDTH - 2 * PAD + gap) // cell)))
    rows = math.ceil(len(points) / columns)
    parts = []
    for index, (point, value) in enumerate(zip(points, values, strict=True)):
        row, column = divmod(index, columns)
        x = PAD + column * cell
        y = top + row * CELL_HEIGHT + FONT
        parts.append(
            _tag(
                "text",
                _tspan(point.label, fill=MUTED) + " " + _tspan(value, fill=INK, bold=point.rate is not None),
                cls="cell",
                x=_num(x),
                y=_num(y),
            )
        )
    return parts, top + rows * CELL_HEIGHT


# ---------------------------------------------------------------------------------------------------------
# Shared drawing


def _svg(kind: str, title: str, desc: str, parts: Iterable[str], height: float) -> Markup:
    body = "".join(parts)
    ident = "chart-" + hashlib.sha1(f"{kind}\0{title}\0{desc}\0{body}".encode()).hexdigest()[:12]
    head = _open(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {_num(height)}",
        width="100%",
        role="img",
        cls=f"chart-svg chart-{kind}",
        **{
            "aria-labelledby": f"{ident}-title {ident}-desc",
            "font-family": FONT_FAMILY,
            "font-size": FONT,
        },
    )
    return Markup(
        head
        + _tag("title", escape(title), id=f"{ident}-title")
        + _tag("desc", escape(desc), id=f"{ident}-desc")
        + _rect(0, 0, WIDTH, height, fill=WHITE, cls="background")
        + body
        + "</svg>"
    )


def _empty(title: str, message: str, parts: list[str], y: float) -> Markup:
    parts = [*parts, _text(WIDTH / 2, y + 16, message, anchor="middle", fill=MUTED, cls="empty")]
    return _svg("empty", title, message, parts, y + 28)


def _legend(items: Sequence[tuple[str | None, str]]) -> list[str]:
    """A line of keys: a colour square, or the target tick when the colour is None."""
    parts: list[str] = []
    x = float(PAD)
    for colour, label in items:
        if colour is None:
            parts.append(_line(x + 5, LEGEND_Y - 11, x + 5, LEGEND_Y + 3, stroke=INK, width=2, cls="key"))
        else:
            parts.append(_rect(x, LEGEND_Y - 10, 10, 10, fill=colour, cls="key"))
        parts.append(_text(x + 14, LEGEND_Y, label, fill=INK, cls="legend"))
        x += 14 + _text_width(label) + 14
    return parts


def _grid_labels(values: Sequence[float] = GRID) -> list[str]:
    """0 20 40 60 80 100%: a % sign on every label would not fit between the gridlines on a phone."""
    return [
        _text(
            PLOT_X + v * PLOT_WIDTH,
            AXIS_Y,
            _pct(v) if v == 1 else _pct(v)[:-1],
            anchor="middle",
            fill=MUTED,
            cls="axis",
        )
        for v in values
    ]


def _gridlines(y1: float, y2: float) -> list[str]:
    return [
        _line(PLOT_X + v * PLOT_WIDTH, y1, PLOT_X + v * PLOT_WIDTH, y2, stroke=LINE, cls="grid") for v in GRID
    ]


def _row_label(label: str, y: float, href: str | None) -> list[str]:
    lines = _wrap(label, LABEL_WIDTH, max_lines=2)
    first = y + BAR_TOP + BAR_HEIGHT / 2 + 4
    linked = href is not None and _safe_href(href)
    attrs = {"fill": BLUE, "text-decoration": "underline"} if linked else {"fill": INK}
    spans = "".join(
        _tag("tspan", escape(line), x=PAD, y=_num(first + i * (FONT + 4))) for i, line in enumerate(lines)
    )
    if len(lines) > 1 or lines[0] != label:
        spans = _tag("title", escape(label)) + spans  # the whole name when it had to be cut
    text = _tag("text", spans, cls="label", **attrs)
    return [_tag("a", text, href=href) if linked else text]


def _caption(y: float, pieces: Sequence[tuple[str, str, bool]]) -> tuple[str, float]:
    """The words under a bar, " · " between pieces, breaking to a new line rather than off the edge.

    Returns the markup and the height of its lines.
    """
    separator = " · "
    lines: list[list[tuple[str, str, bool]]] = [[]]
    used = 0.0
    for piece in pieces:
        width = _text_width(piece[0], bold=piece[2])
        if lines[-1] and used + _text_width(separator) + width > WIDTH - PAD - PLOT_X:
            lines.append([])
            used = 0.0
        if lines[-1]:
            used += _text_width(separator)
        lines[-1].append(piece)
        used += width
    spans = []
    for number, line in enumerate(lines):
        for index, (words, colour, bold) in enumerate(line):
            position = {"x": _num(PLOT_X), "dy": CAPTION_LINE} if number and not index else {}
            if index:
                spans.append(_tspan(separator, fill=MUTED))
            spans.append(_tspan(words, fill=colour, bold=bold, **position))
    text = _tag("text", "".join(spans), cls="caption", x=_num(PLOT_X), y=_num(y), **_halo())
    return text, len(lines) * CAPTION_LINE


# ---------------------------------------------------------------------------------------------------------
# Text and numbers


def _pct(rate: float, target: float | None = None) -> str:
    """One decimal at most, rounded as the dashboard's tables round ("%.1f"): 2/3 -> "66.7%", 0.8 -> "80%".

    Given the target it is measured against, a rate below it never prints as reaching it: 0.7996
    against 0.8 prints "79.9%" (rounded down), not "80%".
    """
    text = f"{rate * 100:.1f}"
    if target is not None and rate < target and float(text) >= round(target * 100, 6):
        text = f"{math.floor(round(rate * 1000, 6)) / 10:.1f}"
    return text.removesuffix(".0") + "%"


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clamp(rate: float) -> float:
    return min(max(rate, 0.0), 1.0)


def _char_width(char: str) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char in "%@MWmw—":
        return 0.92
    return 0.36 if char in " -.,:;|!'()[]iIlj" else 0.6


def _text_width(text: str, *, bold: bool = False) -> float:
    """A generous estimate of the drawn width in viewBox units (no font metrics on the server)."""
    return sum(_char_width(c) for c in text) * FONT * (1.05 if bold else 1.0)


NO_LINE_START = "）)]】》」』、，。：；！？,.:;!?%…·"
NO_LINE_END = "（([【《「『"


def _wrap(text: str, width: float, *, max_lines: int) -> list[str]:
    """Break between any two characters (Chinese has no spaces), but never start a line with a
    closing bracket or punctuation nor end one with an opening bracket (e.g. "新市区（含高新" / "区）",
    not "…高新区" / "）"); cut the last line with "…" if it still does not fit."""
    lines: list[str] = []
    current = ""
    for char in text:
        if current and _text_width(current + char) > width:
            carry = ""
            while len(current) > 1 and (current[-1] in NO_LINE_END or (carry + char)[0] in NO_LINE_START):
                current, carry = current[:-1], current[-1] + carry
            lines.append(current)
            current = (carry + char).lstrip()
        else:
            current += char
    lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(last + "…") > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines


def _safe_href(href: str) -> bool:
    """Site paths and http(s) addresses only: no `javascript:` or `data:` link."""
    return urlsplit(href).scheme in ("", "http", "https")


# ---------------------------------------------------------------------------------------------------------
# Markup


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for name, value in attrs.items():
        if value is None:
            continue
        key = "class" if name == "cls" else name
        out.append(f' {key}="{escape(value)}"')
    return "".join(out)


def _open(name: str, **attrs: object) -> str:
    return f"<{name}{_attrs(attrs)}>"


def _tag(name: str, content: str | None = None, **attrs: object) -> str:
    """`content` is markup already escaped by the caller; attribute values are escaped here."""
    if content is None:
        return f"<{name}{_attrs(attrs)}/>"
    return f"<{name}{_attrs(attrs)}>{content}</{name}>"


def _halo() -> dict[str, object]:
    """A white outline behind text so gridlines and ticks crossing it never hide a digit."""
    return {"stroke": WHITE, "stroke-width": 3, "stroke-linejoin": "round", "paint-order": "stroke"}


def _text(
    x: float,
    y: float,
    words: str,
    *,
    fill: str,
    anchor: str | None = None,
    bold: bool = False,
    halo: bool = False,
    cls: str | None = None,
) -> str:
    attrs: dict[str, object] = {"cls": cls, "x": _num(x), "y": _num(y), "fill": fill, "text-anchor": anchor}
    if bold:
        attrs["font-weight"] = "bold"
    if halo:
        attrs.update(_halo())
    return _tag("text", escape(words), **attrs)


def _tspan(words: str, *, fill: str, bold: bool = False, **position: object) -> str:
    return _tag("tspan", escape(words), **position, fill=fill, **({"font-weight": "bold"} if bold else {}))


def _rect(x: float, y: float, width: float, height: float, *, fill: str, cls: str, **extra: object) -> str:
    return _tag(
        "rect", cls=cls, x=_num(x), y=_num(y), width=_num(width), height=_num(height), fill=fill, **extra
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str,
    cls: str,
    width: float = 1,
    dash: str | None = None,
) -> str:
    return _tag(
        "line",
        cls=cls,
        x1=_num(x1),
        y1=_num(y1),
        x2=_num(x2),
        y2=_num(y2),
        stroke=stroke,
        **{"stroke-width": _num(width), "stroke-dasharray": dash},
    )
