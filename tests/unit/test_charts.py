"""The dashboard's SVG charts: the drawing follows the data, every value is also written out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest
from markupsafe import Markup

from guides import charts
from guides.charts import BarRow, ShareRow, TrendPoint, rate_bars, share_bars, trend_line

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>&"


def parse(markup: Markup) -> ET.Element:
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def elements(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{NS}{tag}")
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def f(element: ET.Element, name: str) -> float:
    return float(element.get(name))


def words(root: ET.Element) -> list[str]:
    """The text of every <text> element, as a reader sees it (tspans joined)."""
    return ["".join(t.itertext()) for t in elements(root, "text")]


def trend_points(root: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
        for line in elements(root, "polyline", "line")
    ]


def rate_y(rate: float) -> float:
    return charts.TREND_TOP + (1 - rate) * charts.TREND_HEIGHT


ROWS = [
    BarRow("市级部门", 0.8, 0.8, 40, "/metrics/unit/city?as_of=2018-10-31"),
    BarRow("天山区", 0.5, 0.7, 12),
    BarRow("米东区", 1.0, 0.7, 3),
    BarRow("达坂城区", 0.0, 0.7, 5),
    BarRow("新设单位", None, 0.7, 0),
    BarRow("无目标", 0.25, None, 4),
]
MONTHS = [f"{2017 + m // 12}-{m % 12 + 1:02d}" for m in range(11, 35)]  # 2017-12 .. 2019-11


def monthly(rates: list[float | None]) -> list[TrendPoint]:
    return [TrendPoint(m, r) for m, r in zip(MONTHS[: len(rates)], rates, strict=True)]


# ---------------------------------------------------------------------------------------------------------
# rate_bars


def test_a_bar_is_its_rate_times_the_axis_width():
    root = parse(rate_bars(ROWS, title="各单位"))
    tracks = elements(root, "rect", "track")
    bars = elements(root, "rect", "bar")
    assert len(tracks) == len(ROWS)
    assert len(bars) == len(ROWS) - 1  # no bar for the row without items
    width = f(tracks[0], "width")
    assert width == charts.PLOT_WIDTH
    assert all(f(t, "x") == charts.PLOT_X and f(t, "width") == width for t in tracks)
    for bar, row in zip(bars, [r for r in ROWS if r.rate is not None], strict=True):
        assert f(bar, "x") == charts.PLOT_X
        assert f(bar, "width") == pytest.approx(row.rate * width, abs=0.005)
    assert f(bars[0], "width") == pytest.approx(0.8 * width, abs=0.005)  # exactly 80 % of the axis


def test_each_rows_target_tick_sits_at_target_times_width():
    rows = [BarRow("甲", 0.9, 0.8, 1), BarRow("乙", 0.6, 0.7, 1), BarRow("丙", 0.2, 0.35, 1)]
    root = parse(rate_bars(rows, title="目标"))
    ticks = elements(root, "line", "target")
    tracks = elements(root, "rect", "track")
    assert len(ticks) == 3
    for tick, track, row in zip(ticks, tracks, rows, strict=True):
        assert f(tick, "x1") == f(tick, "x2") == pytest.approx(charts.PLOT_X + row.target * charts.PLOT_WIDTH)
        top, bottom = f(track, "y"), f(track, "y") + f(track, "height")
        assert f(tick, "y1") < top and f(tick, "y2") > bottom  # on its own row, across the bar
    assert len({f(t, "y1") for t in ticks}) == 3


def test_a_row_without_target_has_no_tick():
    root = parse(rate_bars([BarRow("无目标", 0.5, None, 2)], title="无目标"))
    assert elements(root, "line", "target") == []


def test_bar_colour_reaches_target_ok_below_target_warn():
    root = parse(rate_bars(ROWS, title="颜色"))
    colours = [b.get("fill") for b in elements(root, "rect", "bar")]
    # 0.8 >= 0.8, 0.5 < 0.7, 1.0 >= 0.7, 0.0 < 0.7, no target
    assert colours == [charts.OK, charts.WARN, charts.OK, charts.WARN, charts.BLUE]
    assert charts.OK == "#1f7a3a" and charts.WARN == "#9a4b00"


def test_colour_is_repeated_in_words():
    root = parse(rate_bars(ROWS, title="文字"))
    captions = ["".join(c.itertext()) for c in elements(root, "text", "caption")]
    assert captions == [
        "40 项 · 目标 80% · 达到目标",
        "12 项 · 目标 70% · 低于目标",
        "3 项 · 目标 70% · 达到目标",
        "5 项 · 目标 70% · 低于目标",
        "0 项 · 目标 70%",
        "4 项",
    ]


def test_every_rate_is_printed_and_no_items_reads_wushixiang():
    root = parse(rate_bars(ROWS, title="数值"))
    values = ["".join(t.itertext()) for t in elements(root, "text", "value")]
    assert values == ["80%", "50%", "100%", "0%", "无事项", "25%"]


def test_value_sits_at_the_bar_end_or_after_a_tick_it_would_cross():
    rows = [BarRow("甲", 0.5, 0.3, 1), BarRow("乙", 0.65, 0.7, 1)]
    root = parse(rate_bars(rows, title="位置"))
    bars, values, ticks = (
        elements(root, t, c) for t, c in (("rect", "bar"), ("text", "value"), ("line", "target"))
    )
    assert f(values[0], "x") == pytest.approx(f(bars[0], "x") + f(bars[0], "width") + 4, abs=0.01)
    assert f(values[1], "x") == pytest.approx(f(ticks[1], "x1") + 4, abs=0.01)


def test_percentages_round_like_the_tables_but_never_up_to_a_missed_target():
    rows = [
        BarRow("差一点", 0.7996, 0.8, 5000),
        BarRow("三分之二", 2 / 3, 0.7, 3),
        BarRow("无目标", 0.7996, None, 5000),
        BarRow("刚好", 0.8, 0.8, 5),
    ]
    root = parse(rate_bars(rows, title="取整"))
    values = ["".join(t.itertext()) for t in elements(root, "text", "value")]
    assert values == ["79.9%", "66.7%", "80%", "80%"]
    assert elements(root, "rect", "bar")[0].get("fill") == charts.WARN
    assert "差一点：79.9%" in root.find(f"{NS}desc").text
    trend = parse(trend_line(monthly([0.7996]), target=0.8, title="取整"))
    assert [t.text for t in elements(trend, "text", "latest")] == ["79.9%"]
    assert ["".join(c.itertext()) for c in elements(trend, "text", "cell")] == ["2017-12 79.9%"]


def test_gridlines_at_every_twenty_percent():
    root = parse(rate_bars(ROWS, title="刻度"))
    xs = [f(g, "x1") for g in elements(root, "line", "grid")]
    assert xs == pytest.approx([charts.PLOT_X + p * charts.PLOT_WIDTH for p in (0, 0.2, 0.4, 0.6, 0.8, 1)])
    assert [t.text for t in elements(root, "text", "axis")] == ["0", "20", "40", "60", "80", "100%"]


def test_a_row_with_href_links_its_label_without_script():
    root = parse(rate_bars(ROWS, title="链接"))
    links = elements(root, "a")
    assert [a.get("href") for a in links] == ["/metrics/unit/city?as_of=2018-10-31"]
    assert "".join(links[0].itertext()) == "市级部门"


def test_a_javascript_href_is_not_linked():
    root = parse(rate_bars([BarRow("坏链接", 0.5, 0.7, 1, "javascript:alert(1)")], title="链接"))
    assert elements(root, "a") == []
    assert "javascript" not in ET.tostring(root, encoding="unicode")


def test_a_long_label_wraps_to_two_lines_and_keeps_the_full_name():
    name = "乌鲁木齐市人力资源和社会保障局新疆维吾尔自治区分局"
    root = parse(rate_bars([BarRow(name, 0.5, 0.7, 1)], title="长名称"))
    label = elements(root, "text", "label")[0]
    lines = [t.text for t in label.iter(f"{NS}tspan")]
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(charts._text_width(line) <= charts.LABEL_WIDTH for line in lines)
    assert label.find(f"{NS}title").text == name
    assert name in root.find(f"{NS}desc").text


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("新市区（含高新区）", ["新市区（含高新", "区）"]),
        ("一二三四五六七（八）", ["一二三四五六七", "（八）"]),
        ("市政务服务管理局", ["市政务服务管理局"]),
    ],
)
def test_a_label_never_breaks_before_a_closing_or_after_an_opening_bracket(name, lines):
    root = parse(rate_bars([BarRow(name, 0.5, 0.7, 1)], title="折行"))
    label = elements(root, "text", "label")[0]
    assert [t.text for t in label.iter(f"{NS}tspan")] == lines


def test_a_caption_too_wide_for_the_phone_breaks_onto_a_second_line():
    rows = [BarRow("宽", 0.725, 0.755, 99999), BarRow("下一行", 0.9, 0.7, 1)]
    root = parse(rate_bars(rows, title="换行"))
    caption = elements(root, "text", "caption")[0]
    second = [t for t in caption.iter(f"{NS}tspan") if t.get("dy")]
    assert [t.text for t in second] == ["低于目标"]
    narrow = parse(rate_bars([BarRow("窄", 0.9, 0.7, 1)] * 2, title="换行"))
    step = f(elements(root, "rect", "track")[1], "y") - f(elements(root, "rect", "track")[0], "y")
    narrow_step = f(elements(narrow, "rect", "track")[1], "y") - f(elements(narrow, "rect", "track")[0], "y")
    assert step == narrow_step + charts.CAPTION_LINE  # the next row moves down, nothing overlaps


# ---------------------------------------------------------------------------------------------------------
# trend_line


def test_trend_polyline_points_map_to_the_rates():
    rates = [0.4, 0.55, 0.7, 0.8, 1.0, 0.0]
    root = parse(trend_line(monthly(rates), target=0.8, title="趋势"))
    (line,) = trend_points(root)
    assert [y for _, y in line] == pytest.approx([rate_y(r) for r in rates], abs=0.005)
    xs = [x for x, _ in line]
    steps = [b - a for a, b in pairwise(xs)]
    assert max(steps) - min(steps) < 0.02  # months evenly spaced
    assert xs[0] == pytest.approx(charts.TREND_X + charts.TREND_INSET)
    assert xs[-1] == pytest.approx(charts.TREND_RIGHT - charts.TREND_INSET)
    dots = [(f(c, "cx"), f(c, "cy")) for c in elements(root, "circle", "dot")]
    assert dots == line


def test_none_makes_a_gap_in_the_line():
    rates = [0.5, 0.6, None, 0.7, 0.75, None, 0.9]
    root = parse(trend_line(monthly(rates), target=None, title="缺口"))
    lines = trend_points(root)
    assert [[y for _, y in line] for line in lines] == [
        pytest.approx([rate_y(0.5), rate_y(0.6)]),
        pytest.approx([rate_y(0.7), rate_y(0.75)]),
    ]  # the lone 0.9 after the second gap is a dot, not a line
    assert len(elements(root, "circle", "dot")) == 5
    assert lines[0][-1][0] < lines[1][0][0]


def test_trend_target_is_a_dashed_labelled_line():
    points = [TrendPoint(m, 0.5 + i / 100) for i, m in enumerate(MONTHS)]
    root = parse(trend_line(points, target=0.8, title="目标"))
    (target,) = elements(root, "line", "target")
    assert target.get("stroke-dasharray")
    assert f(target, "y1") == f(target, "y2") == pytest.approx(rate_y(0.8))
    assert f(target, "x1") == charts.TREND_X and f(target, "x2") == charts.TREND_RIGHT
    assert [t.text for t in elements(root, "text", "target-label")] == ["目标 80%"]
    assert "目标 80%" in root.find(f"{NS}desc").text


def text_box(text: ET.Element) -> tuple[float, float, float, float]:
    """Left, right, top, bottom of a one-line label, by the module's (generous) width estimate."""
    width = charts._text_width(text.text, bold=text.get("font-weight") == "bold")
    left = f(text, "x") - {"middle": width / 2, "end": width}.get(text.get("text-anchor"), 0)
    return left, left + width, f(text, "y") - charts.FONT, f(text, "y") + 3


@pytest.mark.parametrize("rates", [[0.82, None, None], [0.78, 0.8, 0.81, 0.83], [0.95, 0.93, 0.97]])
def test_target_and_latest_labels_cover_no_dot_and_not_each_other(rates):
    root = parse(trend_line(monthly(rates), target=0.8 if rates[0] < 0.9 else 0.95, title="避让"))
    (target,) = elements(root, "text", "target-label")
    (latest,) = elements(root, "text", "latest")
    target_box, latest_box = text_box(target), text_box(latest)
    assert not charts._overlaps(target_box, latest_box)
    for dot in elements(root, "circle", "dot"):
        x, y, r = f(dot, "cx"), f(dot, "cy"), f(dot, "r")
        assert not charts._overlaps(target_box, (x - r, x + r, y - r, y + r))
    assert min(target_box[2], latest_box[2]) >= 0


def test_latest_value_label_sits_by_its_dot_inside_the_chart():
    root = parse(trend_line(monthly([0.5, 0.6]), target=0.8, title="上方"))
    (latest,) = elements(root, "text", "latest")
    assert f(latest, "y") < rate_y(0.6)  # normally above
    root = parse(trend_line(monthly([0.5, 1.0]), target=0.8, title="顶部"))
    (latest,) = elements(root, "text", "latest")
    assert f(latest, "y") > rate_y(1.0) and f(latest, "y") - charts.FONT >= 0


def test_trend_without_target_has_no_target_line():
    root = parse(trend_line([TrendPoint("2018-10", 0.5)], target=None, title="无目标"))
    assert elements(root, "line", "target") == []
    assert elements(root, "polyline") == [] and len(elements(root, "circle", "dot")) == 1


def test_trend_y_axis_runs_from_0_to_100_percent():
    root = parse(trend_line([TrendPoint("2018-10", 0.5)], target=0.8, title="纵轴"))
    labels = [t.text for t in elements(root, "text", "axis")]
    assert labels == ["0%", "20%", "40%", "60%", "80%", "100%"]
    ys = [f(g, "y1") for g in elements(root, "line", "grid")]
    assert ys == pytest.approx([rate_y(v) for v in (0, 0.2, 0.4, 0.6, 0.8, 1)])


def test_24_month_labels_are_thinned_so_they_do_not_overlap():
    points = [TrendPoint(m, 0.6) for m in MONTHS]
    root = parse(trend_line(points, target=0.8, title="月份"))
    months = elements(root, "text", "month")
    assert 2 <= len(months) < 24
    assert months[-1].text == MONTHS[-1]  # the latest month is always named
    spans = [
        (f(m, "x") - charts._text_width(m.text) / 2, f(m, "x") + charts._text_width(m.text) / 2)
        for m in months
    ]
    assert all(left >= 0 and right <= charts.WIDTH for left, right in spans)
    assert all(a[1] < b[0] for a, b in pairwise(spans))


def test_trend_writes_out_every_months_value():
    rates = [None, *[0.5 + i / 100 for i in range(22)], 0.8]
    root = parse(trend_line(monthly(rates), target=0.8, title="数值"))
    cells = ["".join(c.itertext()) for c in elements(root, "text", "cell")]
    assert len(cells) == 24
    assert cells[0] == "2017-12 无数据"
    assert cells[1] == "2018-01 50%"
    assert cells[-1] == "2019-11 80%"
    assert [t.text for t in elements(root, "text", "latest")] == ["80%"]
    cell_xs = sorted({f(c, "x") for c in elements(root, "text", "cell")})
    assert len(cell_xs) >= 3  # three columns of values fit on a phone


# ---------------------------------------------------------------------------------------------------------
# share_bars


def test_stacked_segments_follow_the_counts_and_fill_the_width():
    rows = [ShareRow("2018-09", 6, 3, 1), ShareRow("2018-10", 7, 0, 0), ShareRow("2018-11", 1, 1, 1)]
    root = parse(share_bars(rows, title="及时率"))
    tracks = elements(root, "rect", "track")
    segments = elements(root, "rect", "segment")
    assert [s.get("class") for s in segments] == [
        "segment on-time",
        "segment late",
        "segment pending",
        "segment on-time",
        "segment on-time",
        "segment late",
        "segment pending",
    ]
    assert {s.get("class"): s.get("fill") for s in segments} == {
        "segment on-time": charts.OK,
        "segment late": charts.RED,
        "segment pending": charts.PENDING,
    }
    first = segments[:3]
    assert [f(s, "width") for s in first] == pytest.approx(
        [0.6 * charts.PLOT_WIDTH, 0.3 * charts.PLOT_WIDTH, 0.1 * charts.PLOT_WIDTH], abs=0.01
    )
    groups = [segments[:3], segments[3:4], segments[4:]]
    for group, track in zip(groups, tracks, strict=True):
        assert f(group[0], "x") == charts.PLOT_X
        assert sum(f(s, "width") for s in group) == pytest.approx(f(track, "width"), abs=0.02)
        for a, b in pairwise(group):
            assert f(a, "x") + f(a, "width") == pytest.approx(f(b, "x"), abs=0.01)  # no gap, no overlap


def test_share_prints_counts_and_on_time_percentage():
    rows = [ShareRow("2018-09", 6, 2, 1), ShareRow("2018-10", 0, 0, 4), ShareRow("2018-11", 0, 0, 0)]
    root = parse(share_bars(rows, title="及时率"))
    assert ["".join(t.itertext()) for t in elements(root, "text", "value")] == ["75%", "—", "无发布", "—"]
    assert ["".join(t.itertext()) for t in elements(root, "text", "caption")] == [
        "按时 6 · 超时 2 · 待发布 1",
        "按时 0 · 超时 0 · 待发布 4",
        "按时 0 · 超时 0",
    ]
    assert elements(root, "rect", "segment")[-1].get("class") == "segment pending"  # the all-pending row
    desc = root.find(f"{NS}desc").text
    assert "2018-09：按时率 75%，按时 6，超时 2，待发布 1" in desc and "2018-11：尚无发布" in desc


def test_share_rejects_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        share_bars([ShareRow("坏", -1, 0)], title="坏数据")


# ---------------------------------------------------------------------------------------------------------
# All three


def all_charts(label: str = "天山区") -> list[Markup]:
    return [
        rate_bars([BarRow(label, 0.8, 0.8, 10, "/metrics/unit/x?a=1&b=2")], title=f"{label}比例"),
        trend_line([TrendPoint(label, 0.8), TrendPoint("2018-11", 0.85)], target=0.8, title=f"{label}趋势"),
        share_bars([ShareRow(label, 8, 2, 1)], title=f"{label}及时率"),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_hostile_label_is_text_not_markup(index):
    markup = all_charts(HOSTILE)[index]
    assert "<script" not in markup and "&lt;script&gt;" in markup
    root = parse(markup)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert any(HOSTILE in w for w in words(root))
    assert root.find(f"{NS}title").text.startswith(HOSTILE)
    assert HOSTILE in root.find(f"{NS}desc").text


def test_an_href_is_escaped_in_its_attribute():
    markup = all_charts()[0]
    assert 'href="/metrics/unit/x?a=1&amp;b=2"' in markup
    assert parse(markup).find(f".//{NS}a").get("href") == "/metrics/unit/x?a=1&b=2"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_chart_is_an_accessible_image_with_chinese_title_and_desc(index):
    markup = all_charts()[index]
    root = parse(markup)
    # an image may not hold links (axe nested-interactive): a chart with links is a labelled group
    assert root.get("role") == ("group" if root.find(f".//{NS}a") is not None else "img")
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert root[0] is title and root[1] is desc  # first children, as SVG asks
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text.startswith("天山区")
    assert re.search(r"[\u4e00-\u9fff]", desc.text) and "80%" in desc.text


@pytest.mark.parametrize("index", [0, 1, 2])
def test_chart_is_responsive_and_its_type_readable_on_a_phone(index):
    root = parse(all_charts()[index])
    assert root.get("width") == "100%" and root.get("height") is None
    x, y, width, height = map(float, root.get("viewBox").split())
    assert (x, y, width) == (0, 0, charts.WIDTH) and height > 0
    sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
    assert sizes and min(sizes) * charts.PHONE_WIDTH / width >= 12
    assert min(sizes) * 360 / width >= 12


@pytest.mark.parametrize("index", [0, 1, 2])
def test_chart_needs_no_script_and_no_external_resource(index):
    markup = str(all_charts()[index])
    root = parse(Markup(markup))
    assert not [e for e in root.iter() if e.tag.endswith(("script", "image", "foreignObject", "style"))]
    assert not [name for e in root.iter() for name in e.attrib if name.lower().startswith("on")]
    assert "url(" not in markup and "@import" not in markup and "@font-face" not in markup


@pytest.mark.parametrize("index", [0, 1, 2])
def test_same_input_gives_the_same_bytes(index):
    assert str(all_charts()[index]) == str(all_charts()[index])
    first, second = parse(all_charts("甲")[index]), parse(all_charts("乙")[index])
    assert first.find(f"{NS}title").get("id") != second.find(f"{NS}title").get("id")


@pytest.mark.parametrize(
    "chart",
    [
        lambda: rate_bars([], title="空"),
        lambda: trend_line([], target=0.8, title="空"),
        lambda: share_bars([], title="空"),
    ],
)
def test_no_rows_says_so(chart):
    root = parse(chart())
    assert "没有可显示的数据。" in words(root)
    assert root.get("role") == "img" and root.find(f"{NS}desc").text == "没有可显示的数据。"
