"""The bulletin's charts as PNG bytes (matplotlib, Agg, the packaged Chinese font).

Each function takes plain values and returns a PNG drawn at the size it is printed
(the PDF's text width is about 6.8 in), so 8–9 pt labels stay 8–9 pt on paper; a
figure taller than a page, which the PDF shrinks, at the resolution it is printed at
(:func:`print_dpi`). No pyplot: figures are created and dropped here, nothing global
is left behind except the font registration.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg", force=False)  # never a GUI backend, also when pyplot is imported later

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from pingan_transforms.publish.fonts import matplotlib_family  # noqa: E402

WIDTH_IN = 6.8
DPI = 200
# How the PDF prints a chart (bulletin_pdf._chart): at the text width (170 mm), and a
# chart taller than the page has room for under its caption shrunk to that height.
PRINT_WIDTH_IN = 170 / 25.4
PRINT_MAX_HEIGHT_IN = 259 / 25.4 - 40 / 72
UP, DOWN, FLAT = "#1a7f37", "#c62828", "#8c8c8c"
INK, GRID, BAND = "#333333", "#dddddd", "#c6dbef"
LINE = "#2166ac"


def _style() -> dict[str, object]:
    return {
        "font.family": matplotlib_family(),
        "font.size": 8,
        "axes.unicode_minus": False,  # the font's hyphen, not U+2212
        "axes.edgecolor": "#999999",
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.titlesize": 9,
        "axes.titleweight": "normal",
    }


def print_dpi(height_in: float) -> float:
    """The resolution that prints a figure ``height_in`` tall at :data:`DPI`: DPI itself,
    unless the PDF shrinks the figure to fit a page. A ranking of a province's 1,365
    townships is a figure 260 in tall: at 200 dpi 52,000 pixels high (GiBs while drawn,
    many seconds to draw, compress and embed) for a chart the PDF prints at a 27th of
    that size; rasterised for the size it is printed at, it looks the same on paper."""
    printed = height_in * PRINT_WIDTH_IN / WIDTH_IN
    return DPI * min(1.0, PRINT_MAX_HEIGHT_IN / printed)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=print_dpi(fig.get_figheight()), facecolor="white")
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str


def ranking_chart(
    bars: Sequence[Bar], total_label: str, legend: Sequence[tuple[str, str]], top: float
) -> bytes:
    """Horizontal bars of the total, best at the top, coloured by grade."""
    with matplotlib.rc_context(_style()):
        height = max(2.2, 0.7 + 0.19 * len(bars))
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(bars)))[::-1]
        ax.barh(positions, [b.value for b in bars], color=[b.colour for b in bars],
                edgecolor="#555555", linewidth=0.4, height=0.72)  # fmt: skip
        ax.set_yticks(positions, [b.label for b in bars])
        low = min((b.value for b in bars), default=0)
        left = max(0.0, (int(low) // 10) * 10 - 10)
        ax.set_xlim(left, top + (top - left) * 0.08)
        for pos, bar in zip(positions, bars, strict=True):
            ax.text(bar.value + (top - left) * 0.008, pos, f"{bar.value:.2f}",
                    va="center", ha="left", fontsize=7, color=INK)  # fmt: skip
        ax.set_xlabel(f"{total_label}（分）")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(-0.7, len(bars) - 0.3)
        if legend:
            handles = [Patch(facecolor=c, edgecolor="#555555", linewidth=0.4, label=g)
                       for g, c in legend]  # fmt: skip
            ax.legend(handles=handles, loc="lower right", title="等级", fontsize=7,
                      title_fontsize=7, frameon=True, framealpha=0.9)  # fmt: skip
        return _png(fig)


def movers_chart(movers: Sequence[tuple[str, int]]) -> bytes:
    """Rank change of the biggest risers (green, right) and fallers (red, left)."""
    with matplotlib.rc_context(_style()):
        height = max(1.6, 0.6 + 0.28 * len(movers))
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        ordered = sorted(movers, key=lambda m: m[1])
        positions = list(range(len(ordered)))
        values = [change for _, change in ordered]
        colours = [UP if v > 0 else DOWN if v < 0 else FLAT for v in values]
        ax.barh(positions, values, color=colours, height=0.62)
        ax.set_yticks(positions, [name for name, _ in ordered])
        reach = max([abs(v) for v in values] + [1])
        ax.set_xlim(-reach * 1.25, reach * 1.25)
        for pos, value in zip(positions, values, strict=True):
            text = f"↑{value}" if value > 0 else f"↓{-value}" if value < 0 else "–"
            ax.text(value + (0.03 * reach if value >= 0 else -0.03 * reach), pos, text,
                    va="center", ha="left" if value >= 0 else "right", fontsize=8,
                    color=UP if value > 0 else DOWN if value < 0 else FLAT)  # fmt: skip
        ax.axvline(0, color="#777777", linewidth=0.8)
        ax.set_xlabel("排名变化（名次，正数为上升）")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)


def category_heatmap(
    units: Sequence[str], categories: Sequence[str], rates: Sequence[Sequence[float | None]]
) -> bytes:
    """Score rate (% of the category's points) of every unit in every category."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("rate", ["#d73027", "#fee08b", "#1a9850"])
    data = np.array([[np.nan if v is None else v for v in row] for row in rates], dtype=float)
    with matplotlib.rc_context(_style()):
        height = max(2.0, 0.8 + 0.17 * len(units))
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(data, cmap=cmap, vmin=40, vmax=100, aspect="auto")
        ax.set_xticks(range(len(categories)), categories)
        ax.xaxis.tick_top()
        ax.tick_params(axis="x", length=0, labelsize=7.5)
        ax.set_yticks(range(len(units)), units)
        ax.tick_params(axis="y", length=0)
        # the values sit in their cells, inside the axes: out of the layout, which then
        # measures the tick labels only (a province's 1,365 townships: 27,000 values)
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                if not np.isnan(value):
                    ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=6.5,
                            color="white" if value < 55 else INK, in_layout=False)  # fmt: skip
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.01)
        bar.set_label("得分率（%）")
        bar.ax.tick_params(labelsize=7)
        return _png(fig)


@dataclass(frozen=True)
class Series:
    """One panel of the trend chart: the peer group's mean, min and max per month."""

    title: str
    mean: Sequence[float | None]
    low: Sequence[float | None]
    high: Sequence[float | None]


def trend_chart(
    months: Sequence[str], panels: Sequence[Series], version_marks: Sequence[int] = ()
) -> bytes:
    """Small multiples: per panel the mean line and the min–max band over the months.

    ``months`` are the x labels (oldest first, at most 12); ``version_marks`` are the
    indexes of months from which a new scheme version scores (a dashed line).
    With one or two months the lines are short but honest: points with their values.
    """
    columns = 3 if len(panels) > 4 else 2
    rows = -(-len(panels) // columns)
    x = list(range(len(months)))
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(WIDTH_IN, 0.35 + 1.75 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
        for index, ax in enumerate(axes.flat):
            if index >= len(panels):
                ax.set_visible(False)
                continue
            panel = panels[index]
            lows = [float("nan") if v is None else v for v in panel.low]
            highs = [float("nan") if v is None else v for v in panel.high]
            means = [float("nan") if v is None else v for v in panel.mean]
            ax.fill_between(x, lows, highs, color=BAND, alpha=0.8, linewidth=0,
                            label="最低—最高")  # fmt: skip
            ax.plot(x, means, color=LINE, marker="o", markersize=3.5, linewidth=1.4,
                    label="平均")  # fmt: skip
            known = [(i, v) for i, v in enumerate(panel.mean) if v is not None]
            for i, value in known[-2:]:  # the last two points carry their value
                ax.annotate(f"{value:.1f}", (i, value), textcoords="offset points",
                            xytext=(0, 5), ha="center", fontsize=6.5, color=LINE)  # fmt: skip
            for mark in version_marks:
                ax.axvline(mark - 0.5, color="#999999", linestyle="--", linewidth=0.8)
            values = [v for v in (*lows, *highs, *means) if v == v]
            low = min(values, default=0.0)
            high = max(values, default=100.0)
            pad = max((high - low) * 0.25, 3.0)
            ax.set_ylim(max(0.0, low - pad), high + pad)
            ax.set_xlim(-0.5, len(months) - 0.5)
            ax.set_title(panel.title, fontsize=8.5, loc="left")
            ax.grid(color=GRID, linewidth=0.5)
            ax.set_axisbelow(True)
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=7)
        step = 1 if len(months) <= 6 else 2
        for ax in axes[-1]:
            ax.set_xticks(x[::step], [m for m in months][::step])
        for ax in axes.flat:
            if ax.get_visible():
                ax.tick_params(axis="x", labelbottom=True)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if version_marks:
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], color="#999999", linestyle="--", linewidth=0.8))
            labels.append("方案换版")
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=7,
                   frameon=False)  # fmt: skip
        return _png(fig)


@dataclass(frozen=True)
class FunnelPoint:
    label: str
    events: float
    population: float  # people


@dataclass(frozen=True)
class Funnel:
    """A funnel plot's numbers: the peer rate and each unit's place against its limits."""

    rate: float  # the peer group's pooled rate per 10,000
    outside_998: tuple[str, ...]  # labels beyond the 99.8 % limits
    outside_95: tuple[str, ...]  # beyond 95 % but within 99.8 %


def funnel_limits(rate: float, population: Sequence[float], level: float) -> tuple[list, list]:
    """Exact Poisson control limits of a rate per 10,000 around the peer rate, for units of
    the given populations (Spiegelhalter 2005, "Funnel plots for comparing institutional
    performance", Statistics in Medicine 24): the count quantiles of Poisson(rate × n)
    at (1 − level)/2 and (1 + level)/2, per 10,000 of n."""
    from scipy.stats import poisson

    low, high = [], []
    for people in population:
        expected = rate * people / 10000.0
        tail = (1 - level) / 2
        low.append(float(poisson.ppf(tail, expected)) * 10000.0 / people)
        high.append(float(poisson.ppf(1 - tail, expected)) * 10000.0 / people)
    return low, high


def funnel(points: Sequence[FunnelPoint]) -> Funnel:
    """Where each unit stands against the funnel's limits (for the bulletin's words)."""
    people = [p.population for p in points if p.population > 0]
    rate = sum(p.events for p in points if p.population > 0) * 10000.0 / sum(people)
    outside: dict[float, list[str]] = {0.95: [], 0.998: []}
    for level in outside:
        lows, highs = funnel_limits(rate, [p.population for p in points], level)
        for p, low, high in zip(points, lows, highs, strict=True):
            unit_rate = p.events * 10000.0 / p.population
            if unit_rate < low or unit_rate > high:
                outside[level].append(p.label)
    beyond = tuple(outside[0.998])
    return Funnel(rate, beyond, tuple(x for x in outside[0.95] if x not in beyond))


def funnel_chart(points: Sequence[FunnelPoint], what: str) -> bytes:
    """Each unit's rate per 10,000 against its population, with the peer rate and its 95 %
    and 99.8 % limits: a point outside the funnel differs by more than chance."""
    import numpy as np

    points = [p for p in points if p.population > 0]
    result = funnel(points)
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        ax = fig.add_subplot()
        sizes = np.array([p.population for p in points], dtype=float)
        grid = np.geomspace(max(sizes.min() * 0.8, 100.0), sizes.max() * 1.2, 200)
        for level, style in ((0.95, "--"), (0.998, ":")):
            low, high = funnel_limits(result.rate, grid, level)
            label = f"{level * 100:g}%控制限"
            ax.step(grid, high, where="mid", color=LINE, linestyle=style, linewidth=0.9,
                    label=label)  # fmt: skip
            ax.step(grid, low, where="mid", color=LINE, linestyle=style, linewidth=0.9)
        ax.axhline(result.rate, color=INK, linewidth=0.8, label=f"整体 {result.rate:.2f}")
        beyond_998, beyond_95 = set(result.outside_998), set(result.outside_95)
        by_colour: dict[str, list[tuple[float, float]]] = {FLAT: [], "#e08214": [], DOWN: []}
        for p in points:
            rate = p.events * 10000.0 / p.population
            colour = (DOWN if p.label in beyond_998 else
                      "#e08214" if p.label in beyond_95 else FLAT)  # fmt: skip
            by_colour[colour].append((p.population, rate))
            if colour != FLAT:
                ax.annotate(p.label, (p.population, rate), xytext=(3, 3),
                            textcoords="offset points", fontsize=7, color=colour)  # fmt: skip
        # one collection per colour, the units outside the limits drawn last (on top): a
        # scatter per unit was 1,365 collections for a province, seconds to draw
        for colour, xy in by_colour.items():
            if xy:
                xs, ys = zip(*xy, strict=True)
                ax.scatter(xs, ys, s=14, color=colour, zorder=3)
        ax.set_xscale("log")
        ax.set_xlabel("人口（人，对数刻度）")
        ax.set_ylabel(f"{what}（每万人）")
        ax.grid(color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=7, frameon=True, framealpha=0.9, loc="upper right")
        return _png(fig)
