"""The bulletin's sections, composed from :class:`BulletinData` into one
:class:`~pingan_transforms.publish.document.Document` (:func:`compose`: pure, no database,
no files): 一 overall, 二 ranking with its chart, 三 risers and fallers and the items that
moved them, 四 category scores, 五 incident trends, 六 rates, 七 warnings, and for a
revision 八 what changed. The wording is :mod:`.wording`'s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import pairwise

from pingan_transforms.months import Month
from pingan_transforms.publish import charts
from pingan_transforms.publish.bulletin_data import (
    BulletinData,
    Correction,
    ItemChange,
    RevisionChange,
    UnitStatus,
)
from pingan_transforms.publish.bulletin_data import (
    movers as _movers,
)
from pingan_transforms.publish.document import (
    Block,
    Cell,
    Chart,
    Document,
    Para,
    Run,
    Section,
    Table,
    para,
)
from pingan_transforms.publish.exports import (
    RANK_INTERVAL_NOTE,
    WARNING_STYLES,
    PublishedRanking,
    PublishedUnit,
)
from pingan_transforms.publish.ranking import WARNING_NAMES
from pingan_transforms.publish.wording import (
    UNIT_WORDS,
    area_word,
    date_text,
    listing,
    month_text,
    number,
    pct_change,
    revision_suffix,
    tested_change_words,
    tested_pct_change,
    unit_change,
    with_unit,
)

#: A chart with a bar or row per unit (图1 ranking, 图3 heat map) shows every unit up to
#: CHART_UNITS; a larger ranking (a province's 1,365 townships) is charted by its
#: CHART_ENDS highest- and lowest-scoring units, and the caption says so. 1,365 bars
#: print as a strip no one can read, and drawing them was most of the bulletin's cost;
#: the tables list every unit.
CHART_UNITS = 60
CHART_ENDS = 20
REASONS = 3  # items explaining a move
CHANGE_FIELDS = {"score": "得分", "rank": "排名", "grade": "等级"}
UP, DOWN, FLAT = "#1a7f37", "#c62828", "#8c8c8c"
STAR = "#bf8f00"
LOW_FILL, HIGH_FILL = "#fde0dc", "#e3f2e1"  # category cells under 60 % / from 90 % of points
CN_NUMERALS = "一二三四五六七八九十"
RATE_NOTE = (
    "比率 = 分子 ÷ 分母（百分比指标 × 100）；累计为1月至本月已报送月份的分子、分母分别相加后"
    "相除，不是各月比率的平均。百分比指标的变化以百分点计。"
)


def num(text: str, bold: bool = False) -> Cell:
    """A number right-aligned; the no-value dash centred."""
    return Cell(text, align="center" if text == "—" else "right", bold=bold)


def rank_change_cell(unit: PublishedUnit) -> Cell:
    change, previous = unit.row.rank_change, unit.row.previous_rank
    if previous is None or change is None:
        return Cell("新", colour=FLAT)
    if change > 0:
        return Cell(f"↑{change}", colour=UP, bold=True)
    if change < 0:
        return Cell(f"↓{-change}", colour=DOWN, bold=True)
    return Cell("–", colour=FLAT)


def text_on(fill: str) -> str:
    """Black or white text on a fill, whichever reads better."""
    hex6 = fill.lstrip("#")
    if len(hex6) != 6:
        return "#000000"
    r, g, b = (int(hex6[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#ffffff"


@dataclass
class _Context:
    """What the sections share. The derived facts are cached properties: they go over
    every unit and are asked per row (``several_groups`` in the ranking table), which
    was quadratic in the units (1,365 townships: 1.9 million steps)."""

    data: BulletinData
    month: Month
    revision: int
    changes: Sequence[RevisionChange]
    corrections: Sequence[Correction] = ()
    appeals: Sequence[str] = ()  # the appeals (申诉) the revision counts, described

    @property
    def ranking(self) -> PublishedRanking:
        return self.data.ranking

    @property
    def units(self) -> tuple[PublishedUnit, ...]:
        return self.data.ranking.units

    @cached_property
    def peer_names(self) -> list[str]:
        return list(dict.fromkeys(u.row.peer_group_name or "" for u in self.units))

    @cached_property
    def area(self) -> str:
        names = [n for n in self.peer_names if n]
        if len(names) == 1:
            return names[0]
        return self.ranking.scheme_name or self.ranking.scheme_code

    @cached_property
    def whole(self) -> str:
        return area_word(self.area)

    @cached_property
    def unit_word(self) -> str:
        levels = {u.row.region_level for u in self.units}
        level = levels.pop() if len(levels) == 1 else ""
        return UNIT_WORDS.get(level, ("单位", "各单位"))[0]

    @cached_property
    def salutation(self) -> str:
        levels = {u.row.region_level for u in self.units}
        level = levels.pop() if len(levels) == 1 else ""
        return UNIT_WORDS.get(level, ("单位", "各单位"))[1] + "："

    @property
    def label(self) -> str:
        return self.ranking.total_label

    @cached_property
    def several_groups(self) -> bool:
        return len(self.peer_names) > 1


def _grades(units: Sequence[PublishedUnit]) -> list[tuple[str, str, int]]:
    """(grade, colour, units) from the best grade (highest mean score) down."""
    scores: dict[str, list[Decimal]] = {}
    colours: dict[str, str] = {}
    for u in units:
        scores.setdefault(u.row.grade, []).append(u.row.score)
        colours.setdefault(u.row.grade, u.grade_colour or "#cccccc")
    order = sorted(scores, key=lambda g: -sum(scores[g]) / len(scores[g]))
    return [(g, colours[g], len(scores[g])) for g in order]


def _overview(ctx: _Context) -> Section:
    units = ctx.units
    blocks: list[Block] = []
    for peer in ctx.peer_names:
        group = [u for u in units if (u.row.peer_group_name or "") == peer]
        best, worst = group[0], max(group, key=lambda u: (u.row.rank, u.row.score))
        mean = sum(u.row.score for u in group) / len(group)
        previous = [u.previous_score for u in group if u.previous_score is not None]
        where = peer or ctx.area
        runs = [
            Run(f"{month_text(ctx.month)}，{where}共有{len(group)}个{ctx.unit_word}参加"
                f"{ctx.label}测评排名。"),
            Run(best.row.region_name, bold=True),
            Run(f"以{best.row.score:.2f}分位列第一，"),
            Run(worst.row.region_name, bold=True),
            Run(f"以{worst.row.score:.2f}分排名末位；{area_word(where)}平均{mean:.2f}分"),
        ]  # fmt: skip
        if len(previous) == len(group):
            before = sum(previous) / len(previous)
            delta = mean - before
            direction = "提高" if delta > 0 else "下降" if delta < 0 else "持平"
            runs.append(Run(f"，较上月{direction}{abs(delta):.2f}分" if delta else "，与上月持平"))
        runs.append(Run("。"))
        blocks.append(Para(tuple(runs)))
    grade_text = "、".join(f"{g}{n}个" for g, _, n in _grades(units))
    sentence = f"按等级分：{grade_text}。"
    stars = Counter(u.row.stars for u in units if u.row.stars)
    if stars:
        sentence += "按星级分：" + "、".join(
            f"{_cn_number(s)}星{stars[s]}个" for s in sorted(stars, reverse=True)
        ) + "。"  # fmt: skip
    blocks.append(para(sentence))
    movers = _movers(units)
    risers = [u for u in movers if u.row.rank_change > 0]
    fallers = [u for u in movers if u.row.rank_change < 0]
    if risers or fallers:
        parts = []
        if risers:
            u = risers[0]
            parts.append(f"排名上升最多的是{u.row.region_name}（上升{u.row.rank_change}位，"
                         f"由第{u.row.previous_rank}名升至第{u.row.rank}名）")  # fmt: skip
        if fallers:
            u = fallers[0]
            parts.append(f"下降最多的是{u.row.region_name}（下降{-u.row.rank_change}位，"
                         f"由第{u.row.previous_rank}名降至第{u.row.rank}名）")  # fmt: skip
        blocks.append(para("，".join(parts) + "。"))
    if ctx.ranking.previous_restated:
        blocks.append(_restated_note(ctx))
    return Section("总体情况", tuple(blocks))


def _restated_note(ctx: _Context) -> Para:
    version = ctx.ranking.scheme_version
    return Para(
        (
            Run("口径说明：", bold=True),
            Run(f"本月起启用第{version}版测评方案，上月未按该版本发布。为便于比较，本通报中"
                f"的上月排名、上月得分、排名变化和环比均已按第{version}版方案重新计算，"
                "可能与上月通报的数字不一致。"),
        ),
        note=True,
    )  # fmt: skip


def _ranking_table(ctx: _Context) -> Table:
    units = ctx.units
    has_stars = any(u.row.stars for u in units)
    has_warnings = any(u.row.warning_level for u in units)
    header = ["排名", ctx.unit_word, f"{ctx.label}", "等级"]
    widths = [0.6, 1.8, 1.1, 0.9]
    if has_stars:
        header.append("星级")
        widths.append(1.1)
    if has_warnings:
        header.append("预警")
        widths.append(0.8)
    header += ["上月排名", "排名变化", "环比(%)"]
    widths += [0.9, 0.9, 0.9]
    has_intervals = any(u.rank_interval for u in units)
    if has_intervals:
        header.append("排名区间")
        widths.append(0.9)
    if ctx.several_groups:
        header.insert(2, "排名分组")
        widths.insert(2, 1.4)
    rows = []
    for u in units:
        r = u.row
        fill = u.grade_colour if u.grade_colour and u.grade_colour.startswith("#") else None
        cells = [
            Cell(str(r.rank)),
            Cell(r.region_name, align="left", bold=r.rank == 1),
            Cell(f"{r.score:.2f}", align="right"),
            Cell(r.grade, fill=fill, colour=text_on(fill) if fill else None, bold=True),
        ]
        if has_stars:
            cells.append(Cell("★" * (r.stars or 0), colour=STAR, align="left"))
        if has_warnings:
            style = WARNING_STYLES.get(r.warning_level or "")
            cells.append(
                Cell(WARNING_NAMES.get(r.warning_level or "", "—"),
                     fill=f"#{style[0]}" if style else None,
                     colour=f"#{style[1]}" if style else None, bold=bool(style))
            )  # fmt: skip
        pct = r.score_change_pct
        cells += [
            Cell("—" if r.previous_rank is None else str(r.previous_rank)),
            rank_change_cell(u),
            Cell("—" if pct is None else f"{pct:+.2f}", align="right",
                 colour=UP if pct and pct > 0 else DOWN if pct and pct < 0 else None),
        ]  # fmt: skip
        if has_intervals:
            cells.append(Cell(u.rank_interval_text or "—"))
        if ctx.several_groups:
            cells.insert(2, Cell(r.peer_group_name or "—"))
        rows.append(tuple(cells))
    notes = ["排名变化 = 上月排名 − 本月排名，↑为上升、↓为下降，“新”为上月未参加排名；"
             f"环比 = （本月{ctx.label} − 上月）÷ 上月 × 100。"]  # fmt: skip
    if ctx.ranking.previous_restated:
        notes.append(f"上月排名与环比已按第{ctx.ranking.scheme_version}版方案重算。")
    if has_intervals:
        notes.append(f"排名区间：{RANK_INTERVAL_NOTE}。")
    caption = f"{month_text(ctx.month)}{ctx.area}{ctx.unit_word}{ctx.label}排名"
    return Table(tuple(header), tuple(rows), tuple(widths), caption, tuple(notes))


def charted_units(ctx: _Context) -> tuple[tuple[PublishedUnit, ...], str]:
    """The units a per-unit chart shows, and what its caption adds when that is not all
    of them: every unit up to :data:`CHART_UNITS`, else the :data:`CHART_ENDS` highest
    and lowest scores (in ranking order; ties at the cut by region code)."""
    units = ctx.units
    if len(units) <= CHART_UNITS:
        return units, ""
    by_score = sorted(units, key=lambda u: (-u.row.score, u.row.region_code))
    ends = {u.row.region_code for u in (*by_score[:CHART_ENDS], *by_score[-CHART_ENDS:])}
    shown = tuple(u for u in by_score if u.row.region_code in ends)
    note = f"（共{len(units)}个{ctx.unit_word}，图中为得分最高和最低的各{CHART_ENDS}个，全部见表）"
    return shown, note


def _bar_label(ctx: _Context, unit: PublishedUnit, every_unit: bool) -> str:
    """Rank and name; a subset drawn from several peer groups also names the group, since
    each rank is within its group."""
    if every_unit or not ctx.several_groups:
        return f"{unit.row.rank} {unit.row.region_name}"
    return f"{unit.row.peer_group_name or ''}第{unit.row.rank} {unit.row.region_name}"


def _ranking_section(ctx: _Context) -> Section:
    units = ctx.units
    total_points = sum(float(c.points or 0) for c in ctx.ranking.categories) or 100.0
    top = max(total_points, max(float(u.row.score) for u in units))
    shown, note = charted_units(ctx)
    bars = [
        charts.Bar(_bar_label(ctx, u, not note), float(u.row.score),
                   u.grade_colour or "#9ecae1")
        for u in shown
    ]  # fmt: skip
    legend = [(g, c) for g, c, _ in _grades(shown)]
    png = charts.ranking_chart(bars, ctx.label, legend, top)
    chart = Chart("ranking", f"图1  {ctx.label}排名（按等级着色）{note}", png)
    return Section(f"{ctx.label}排名情况", (_ranking_table(ctx), chart))


def _reason_text(item: ItemChange) -> str:
    text = f"{item.item_name}{item.item_score_change:+.2f}分"
    if item.metric_value is not None and item.previous_month_value is not None:
        unit = item.metric_unit
        before = with_unit(item.previous_month_value, unit, 1)
        after = with_unit(item.metric_value, unit, 1)
        if before != after:
            text += f"（{before}→{after}）"
    return text


def _reasons(ctx: _Context, unit: PublishedUnit) -> str:
    items = ctx.data.items.get(unit.row.region_code, [])
    rising = (unit.row.rank_change or 0) > 0
    same_way = [i for i in items if (i.item_score_change > 0) == rising]
    chosen = (same_way or items)[:REASONS]
    if not chosen:
        return "各项得分变化不大，排名变化主要受其他单位得分变化影响"
    return "\n".join(_reason_text(i) for i in chosen)


def _movers_section(ctx: _Context) -> Section:
    movers = _movers(ctx.units)
    if not movers:
        if all(u.row.previous_rank is None for u in ctx.units):
            text = "本月为首次测评，无上月排名可供比较。"
        else:
            text = "本月各单位排名与上月相同。"
        return Section("排名变化情况", (para(text),))
    rows = []
    for u in movers:
        r = u.row
        change = rank_change_cell(u)
        score = f"{r.score:.2f}"
        if u.previous_score is not None:
            score += f"（上月{u.previous_score:.2f}）"
        rows.append((
            Cell(r.region_name, align="left", bold=True),
            Cell(f"{r.previous_rank}→{r.rank}"),
            change,
            Cell(score),
            Cell(_reasons(ctx, u), align="left"),
        ))  # fmt: skip
    words = []
    for direction, moved in (("上升", [u for u in movers if u.row.rank_change > 0]),
                             ("下降", [u for u in movers if u.row.rank_change < 0])):  # fmt: skip
        clear = [u.row.region_name for u in moved if u.clear_move]
        other = [u.row.region_name for u in moved if not u.clear_move]
        if clear:
            words.append(f"排名明显{direction}的有{listing(clear)}")
        if other:
            words.append(f"{'排名' if not words else ''}{direction}较多的有{listing(other)}")
    text = "，".join(words) + "。"
    unclear = [u.row.region_name for u in movers if u.clear_move is False]
    if unclear:
        text += (f"其中{listing(unclear)}本月与上月的排名区间相互重叠，名次变化可能出于事件数的"
                 "偶然波动，不宜过度解读。")  # fmt: skip
    intro = Para((Run(text + "主要变化项目见下表（括号内为该项指标上月→本月的数值）。"),))
    table = Table(
        ("单位", "名次", "排名变化", "本月得分", "主要影响项目（得分变化）"),
        tuple(rows),
        (1.3, 0.8, 0.8, 1.7, 5.0),
        "排名变化较大的单位",
        ("影响项目取该单位本月得分变化最大、且与排名变化方向一致的项目（region_index_items）。",),
    )
    png = charts.movers_chart([(u.row.region_name, u.row.rank_change or 0) for u in movers])
    chart = Chart("movers", "图2  排名变化较大的单位", png)
    return Section("排名变化情况", (intro, table, chart))


def _category_section(ctx: _Context) -> Section:
    categories = ctx.ranking.categories
    if not categories:
        return Section("分类指标得分情况", (para("本方案未设分类指标。"),))
    units = ctx.units
    header = ("排名", ctx.unit_word,
              *(f"{c.name}\n（{number(c.points)}分）" if c.points else c.name
                for c in categories), ctx.label)  # fmt: skip
    rows = []
    rates: list[list[float | None]] = []
    for u in units:
        cells = [Cell(str(u.row.rank)), Cell(u.row.region_name, align="left")]
        row_rates: list[float | None] = []
        for c in categories:
            found = u.categories.get(c.code)
            if found is None:
                cells.append(Cell("—"))
                row_rates.append(None)
                continue
            rate = float(found.score) * 100 / float(c.points) if c.points else None
            fill = (
                None
                if rate is None
                else LOW_FILL
                if rate < 60
                else HIGH_FILL
                if rate >= 90
                else None
            )
            cells.append(Cell(f"{found.score:.2f}", fill=fill, align="right"))
            row_rates.append(rate)
        cells.append(Cell(f"{u.row.score:.2f}", bold=True, align="right"))
        rows.append(tuple(cells))
        rates.append(row_rates)
    means = []
    for c in categories:
        scores = [u.categories[c.code].score for u in units if c.code in u.categories]
        means.append(Cell(f"{sum(scores) / len(scores):.2f}" if scores else "—", bold=True,
                          align="right"))  # fmt: skip
    total_mean = sum(u.row.score for u in units) / len(units)
    rows.append((Cell(""), Cell("平均", bold=True, align="left"), *means,
                 Cell(f"{total_mean:.2f}", bold=True, align="right")))  # fmt: skip
    widths = (0.55, 1.45, *([1.0] * len(categories)), 0.95)
    table = Table(
        header, tuple(rows), widths, f"{ctx.unit_word}分类指标得分",
        ("底色：浅红为得分不足该类满分的60%，浅绿为达到90%及以上。",),
        small=len(categories) > 6,
    )  # fmt: skip
    # the weakest category of the area, for a sentence
    mean_rates = []
    for j, c in enumerate(categories):
        values = [row[j] for row in rates if row[j] is not None]
        if values:
            mean_rates.append((sum(values) / len(values), c.name))
    blocks: list[Block] = []
    if mean_rates:
        best, worst = max(mean_rates), min(mean_rates)
        blocks.append(
            para(
                f"从分类指标看，{ctx.whole}得分率最高的是“{best[1]}”（平均{best[0]:.1f}%），"
                f"最低的是“{worst[1]}”（平均{worst[0]:.1f}%），是下一步工作的重点。"
            )
        )
    blocks.append(table)
    shown, note = charted_units(ctx)
    rates_of = {u.row.region_code: r for u, r in zip(units, rates, strict=True)}
    heat = charts.category_heatmap(
        [u.row.region_name for u in shown],
        [c.name for c in categories],
        [rates_of[u.row.region_code] for u in shown],
    )
    blocks.append(Chart("categories", f"图3  分类指标得分率（%）{note}", heat))
    blocks.append(_trend_chart(ctx))
    return Section("分类指标得分情况", tuple(blocks))


def _trend_chart(ctx: _Context) -> Chart:
    history = ctx.data.history
    labels = [f"{m.year}.{m.month:02d}" for m in history.months]
    panels = [
        charts.Series(f"{ctx.label}（分）", [s.mean for s in history.total],
                      [s.low for s in history.total], [s.high for s in history.total])
    ]  # fmt: skip
    for c in ctx.ranking.categories:
        spreads = history.categories.get(c.code, ())
        means, lows, highs = ([getattr(s, f) for s in spreads] for f in ("mean", "low", "high"))
        panels.append(charts.Series(f"{c.name}（得分率%）", means, lows, highs))
    marks = [i for i in range(1, len(history.versions))
             if history.versions[i] != history.versions[i - 1]]  # fmt: skip
    png = charts.trend_chart(labels, panels, marks)
    span = len(history.months)
    title = f"图4  近{span}个月走势（{ctx.area}各{ctx.unit_word}平均值及最低—最高区间）"
    return Chart("trends", title, png)


def _trend_section(ctx: _Context) -> Section | None:
    if not ctx.data.trends:
        return None
    blocks: list[Block] = []
    regions = list(dict.fromkeys(t.region_code for t in ctx.data.trends))
    for code in regions:
        rows_for = [t for t in ctx.data.trends if t.region_code == code]
        name = rows_for[0].region_name or code
        whole = area_word(name)
        lead = rows_for[:5]  # the total and the main categories, in the seed's order
        parts = []
        for t in lead:
            compared = [
                f"{word}{tested_change_words(pct, flag)}"
                for word, pct, flag in (
                    ("环比", t.previous_month_change_pct, t.previous_month_change),
                    ("同比", t.last_year_change_pct, t.last_year_change))
                if pct is not None
            ]  # fmt: skip
            parts.append(f"{t.metric_name}{t.incident_count}{t.unit or ''}"
                         + (f"，{'、'.join(compared)}" if compared else ""))  # fmt: skip
        sentence = f"{month_text(ctx.month)}，{whole}" + "；".join(parts) + "。"
        if all(t.previous_month_change_pct is None for t in lead):
            sentence += "上月无可比数据，暂不作环比。"
        blocks.append(para(sentence))
        rows = []
        for t in rows_for:
            rows.append((
                Cell(t.metric_name, align="left"),
                num(number(t.incident_count)),
                num(number(t.previous_month_count)),
                Cell(tested_pct_change(t.previous_month_change_pct, t.previous_month_change)),
                num(number(t.last_year_count)),
                Cell(tested_pct_change(t.last_year_change_pct, t.last_year_change)),
                num(number(t.ytd_count)),
                Cell(pct_change(t.ytd_change_pct)),
            ))  # fmt: skip
        notes = ["环比、同比为与上月、去年同月相比的增减幅度；“—”为无可比基数（上月或去年同期"
                 "无数据或为0）。",
                 "带*者为超出随机波动的变化（两期数量的精确条件二项检验，双侧5%水平），"
                 "文中称“明显上升/下降”；其余变化在随机波动范围内，"
                 "称“基本持平”或“小幅波动”。"]  # fmt: skip
        short = {t.ytd_months for t in rows_for if t.ytd_months < ctx.month.month}
        if short:
            months = max(short)
            notes.append(f"今年累计仅含已报送的{months}个月数据（1—{ctx.month.month}月中其余月份未报送），"
                         "累计同比在去年同期数据不全时不作比较。")  # fmt: skip
        blocks.append(Table(
            ("指标", "本月", "上月", "环比", "去年同月", "同比",
             f"今年累计\n（1—{ctx.month.month}月）", "累计同比"),
            tuple(rows), (2.2, 0.9, 0.9, 1.1, 1.0, 1.1, 1.2, 1.1),
            f"{name}警情及案事件情况（单位：起/件）", tuple(notes),
        ))  # fmt: skip
    return Section("警情及案事件态势", tuple(blocks))


def _funnel_section(ctx: _Context) -> Section | None:
    """图5: the headline per-capita count's rates against population (a funnel plot): which
    units differ from the rest by more than chance, which only seem to (issue 15)."""
    data = ctx.data.funnel
    if data is None:
        return None
    points = [charts.FunnelPoint(name, events, people) for _, name, events, people in data.points]
    found = charts.funnel(points)
    what = data.metric_name
    words = [f"以{what}为例，{ctx.area}各{ctx.unit_word}平均每万人{found.rate:.2f}{data.unit}。"]
    if found.outside_998:
        words.append(f"{listing(found.outside_998)}落在99.8%控制限之外，与整体的差别超出随机"
                     "波动，应重点分析原因；")  # fmt: skip
    if found.outside_95:
        words.append(f"{listing(found.outside_95)}在95%控制限之外、99.8%控制限之内，值得关注；")
    words.append(
        "其余单位虽然发生率高低不一，但都在随机波动范围内，人口少的单位一两起事件即可使"
        "发生率大起大落，不宜据此排序或问责。"
        if found.outside_998 or found.outside_95
        else "各单位的差别都在随机波动范围内，人口少的单位一两起事件即可使发生率大起大落，"
        "不宜据此排序或问责。"
    )
    png = charts.funnel_chart(points, what)
    title = f"图5  {what}发生率与人口（漏斗图：虚线为95%、点线为99.8%控制限）"
    return Section("发生率与随机波动", (para("".join(words)), Chart("funnel", title, png)))


def _fraction(numerator: Decimal | None, denominator: Decimal | None) -> str:
    if numerator is None or denominator is None:
        return "—"
    return f"{number(numerator)}/{number(denominator)}"


def _rate_section(ctx: _Context) -> Section | None:
    if not ctx.data.rates:
        return None
    blocks: list[Block] = []
    for code in dict.fromkeys(r.region_code for r in ctx.data.rates):
        rows_for = [r for r in ctx.data.rates if r.region_code == code]
        name = rows_for[0].region_name or code
        rows = []
        for r in rows_for:
            rows.append((
                Cell(r.metric_name, align="left"),
                num(_fraction(r.numerator, r.denominator)),
                num(with_unit(r.value, r.unit), bold=True),
                num(with_unit(r.previous_month_value, r.unit)),
                Cell(unit_change(r.previous_month_change, r.unit)),
                num(_fraction(r.ytd_numerator, r.ytd_denominator)),
                num(with_unit(r.ytd_value, r.unit)),
                Cell(unit_change(r.ytd_change, r.unit)),
            ))  # fmt: skip
        blocks.append(Table(
            ("指标", "本月\n分子/分母", "本月", "上月", "较上月", "今年累计\n分子/分母",
             "今年累计", "较去年\n同期累计"),
            tuple(rows), (2.3, 1.55, 1.05, 1.05, 1.75, 1.6, 1.05, 1.75),
            f"{name}重点工作指标完成情况",
            (RATE_NOTE,),
            small=True,
        ))  # fmt: skip
        low = [r for r in rows_for if r.unit == "%" and r.value is not None and r.value < 60]
        if low:
            weak = listing(f"{r.metric_name}{with_unit(r.value, r.unit)}" for r in low)
            advice = para(f"{area_word(name)}{weak}，低于60%，需重点督促。")
            blocks.insert(len(blocks) - 1, advice)
    return Section("重点工作指标完成情况", tuple(blocks))


def _warning_section(ctx: _Context) -> Section:
    units = ctx.units
    blocks: list[Block] = []
    red = [u for u in units if u.row.warning_level == "red"]
    yellow = [u for u in units if u.row.warning_level == "yellow"]
    if not any(u.row.warning_level for u in units):
        blocks.append(para("本方案未设预警。"))
    elif not red and not yellow:
        blocks.append(para(f"本月{ctx.whole}无红色、黄色预警单位。"))
    for level, group, colour in (("红色", red, DOWN), ("黄色", yellow, "#9c5700")):
        if group:
            names = listing(f"{u.row.region_name}（{u.row.score:.2f}分）" for u in group)
            label = Run(f"{level}预警（{len(group)}个）：", bold=True, colour=colour)
            blocks.append(para(label, names + "。"))
    status = ctx.data.status
    escalated = [u for u in units if status.get(u.row.region_code, _NO_STATUS).escalated]
    if escalated:
        names = listing(
            f"{u.row.region_name}（{red_run_text(status[u.row.region_code])}）" for u in escalated
        )
        label = Run("提级督办：", bold=True, colour=DOWN)
        blocks.append(para(label, f"{names}，列为提级督办对象，由领导小组办公室挂牌督办。"))
    elif red:
        blocks.append(para("本月无连续红色预警达到提级督办条件的单位。"))
    vetoed = [u for u in units if status.get(u.row.region_code, _NO_STATUS).veto_fired]
    if vetoed:
        names = listing(u.row.region_name for u in vetoed)
        label = Run("一票否决：", bold=True, colour=DOWN)
        blocks.append(para(label, f"{names}本月发生一票否决事项，等级按方案规定下调。"))
    if red or yellow or escalated:
        ask = "请预警单位对照扣分项目认真分析原因，制定整改措施，落实责任人和完成时限"
        if escalated:
            ask += "；提级督办单位要将整改情况书面报送领导小组办公室"
        blocks.append(para(ask + "。"))
    return Section("预警提示", tuple(blocks))


_NO_STATUS = UnitStatus(None, False, False)


def red_run_text(status: UnitStatus) -> str:
    """``连续3个月红色预警：2024年12月、2025年1月、2025年3月（未发布的月份不计）``: the run
    and the months it counts; the note when a month in between was never published."""
    text = f"连续{status.consecutive_reds}个月红色预警"
    months = status.red_run_months
    if months:
        text += "：" + listing(month_text(m) for m in months)
        if any(later != earlier.shift(1) for earlier, later in pairwise(months)):
            text += "（未发布的月份不计）"
    return text


def _revision_section(ctx: _Context) -> Section | None:
    if ctx.revision <= 1:
        return None
    why = "部分源数据有迟报或更正"
    if ctx.appeals:  # the rebuild counts any late record too: it is said, not claimed
        why = "经申诉复核，有关记录的归属作出调整（同期源数据的迟报或更正一并计入）"
    intro = para(
        f"本通报为{month_text(ctx.month)}通报的第{ctx.revision}版。首次发布后，{why}，"
        "重新计算后以下单位的得分、排名或等级发生变化。此前发布的版本同时作废，"
        "以本版为准。"
    )
    appeals = tuple(para(f"修订依据：{text}。") for text in ctx.appeals)
    if not ctx.changes:
        unchanged = para("本次修订未改变各单位的得分、排名和等级。")
        return Section("本次修订说明", (intro, *appeals, unchanged))
    rows = tuple(
        (Cell(c.region_name, align="left"), Cell(CHANGE_FIELDS.get(c.field, c.field)),
         Cell(c.before), Cell(c.after, bold=True))
        for c in ctx.changes
    )  # fmt: skip
    table = Table(("单位", "项目", "修订前", "修订后"), rows, (2.0, 1.0, 1.5, 1.5),
                  "修订前后对照")  # fmt: skip
    return Section("本次修订说明", (intro, *appeals, table))


def _corrections_section(ctx: _Context) -> Section | None:
    """数据更正说明: changes to earlier published months too small for a revision
    (the revision policy), stated once so that nothing changes silently."""
    if not ctx.corrections:
        return None
    intro = para(
        "以下往期已发布数据因迟报或更正有小幅变化，未达修订标准，不另行修订通报，"
        "现予说明；此前通报的排名和等级不变。"
    )
    rows = tuple(
        (Cell(month_text(c.month)), Cell(c.change.region_name, align="left"),
         Cell(CHANGE_FIELDS.get(c.change.field, c.change.field)), Cell(c.change.before),
         Cell(c.change.after, bold=True))
        for c in ctx.corrections
    )  # fmt: skip
    table = Table(("月份", "单位", "项目", "原发布", "现数据"), rows, (1.2, 2.0, 1.0, 1.2, 1.2),
                  "往期数据更正")  # fmt: skip
    return Section("数据更正说明", (intro, table))


def _cn_number(n: int) -> str:
    return CN_NUMERALS[n - 1] if n <= len(CN_NUMERALS) else str(n)


def compose(
    data: BulletinData, month: Month, revision: int = 1,
    changes: Sequence[RevisionChange] = (), corrections: Sequence[Correction] = (),
    appeals: Sequence[str] = (),
) -> Document:  # fmt: skip
    """The bulletin as a :class:`Document` (pure: no database, no files)."""
    ctx = _Context(data, month, revision, changes, corrections, appeals)
    ranking = data.ranking
    subject = f"{month_text(month)}{ctx.area}{ctx.label}通报"
    issue = f"{month.year}年第{month.month}期"
    subject += revision_suffix(revision)
    issue += revision_suffix(revision)
    office = f"{ctx.area}平安建设领导小组办公室"
    names = listing(c.name for c in ranking.categories)
    scheme = ranking.scheme_name or ranking.scheme_code
    short_office = f"{ctx.whole.removeprefix('全')}平安办"
    scope = f"{names}等方面" if names else "平安建设"
    opening = para(
        f"为全面掌握{ctx.salutation.removesuffix('：')}平安建设工作情况，{short_office}依据"
        f"《{scheme}》测评方案（第{ranking.scheme_version}版），对{month_text(month)}1日至"
        f"{month.days}日{ctx.unit_word}{scope}的情况进行了量化测评，形成{ctx.label}。"
        "现将有关情况通报如下："
    )
    parts: list[Section | None] = [
        _revision_section(ctx),
        _overview(ctx),
        _ranking_section(ctx),
        _movers_section(ctx),
        _category_section(ctx),
        _trend_section(ctx),
        _funnel_section(ctx),
        _rate_section(ctx),
        _warning_section(ctx),
        _corrections_section(ctx),
    ]
    sections = [s for s in parts if s is not None]
    numbered = tuple(
        Section(f"{_cn_number(i)}、{s.title}", s.blocks) for i, s in enumerate(sections, start=1)
    )
    closing = (
        para(f"各单位要对照通报内容，巩固优势、补齐短板，持续提升{ctx.label}和群众安全感。"),
    )
    return Document(
        subject=subject, masthead=f"{ctx.area}{ctx.label}通报", issue=issue, office=office,
        date=date_text(data.issued),
        title=f"关于{month_text(month)}{ctx.salutation.removesuffix('：')}{ctx.label}"
              "测评情况的通报",
        salutation=ctx.salutation, opening=(opening,), sections=numbered, closing=closing,
        revision=revision,
    )  # fmt: skip
