"""The Chinese bulletin (publish/bulletin.py): HTML body, PDF with embedded packaged
fonts, charts, revisions, from marts tables created here (no dbt run)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from PIL import Image

from pingan_transforms.months import Month
from pingan_transforms.publish import bulletin_data, bulletin_sections, charts, fonts, wording
from pingan_transforms.publish.bulletin import (
    NothingPublished,
    RevisionChange,
    bulletin_stem,
    render_bulletin,
)
from pingan_transforms.warehouse import connect

SEP, AUG = Month(2024, 9), Month(2024, 8)

MARTS_DDL = """
create table marts.region_index_monthly (
    scheme_code text not null, scheme_name text, scheme_version integer not null,
    total_label text, month_start date not null, region_code text not null, region_name text,
    region_level text, peer_group_code text, peer_group_name text, score numeric(6,2) not null,
    tree_score numeric(6,2), adjustment_points numeric(6,2), cap_adjustment numeric(6,2),
    grade text not null, grade_colour text, stars integer, warning_level text,
    consecutive_reds integer, escalated boolean, red_run_months text, veto_fired boolean,
    rank_in_peer_group integer not null, units_ranked integer, previous_rank integer,
    rank_change integer, previous_score numeric(6,2), score_change_pct numeric(8,2),
    previous_restated boolean, last_year_rank integer, last_year_score numeric(6,2),
    last_year_restated boolean
);
create table marts.region_index_categories (
    scheme_code text not null, scheme_version integer not null, month_start date not null,
    region_code text not null, category_code text not null, category_name text,
    category_points numeric(6,2), sort_order integer, category_score numeric(6,2) not null,
    previous_category_score numeric(6,2)
);
create table marts.region_index_items (
    scheme_code text not null, scheme_version integer not null, month_start date not null,
    region_code text not null, category_code text, category_name text, item_code text not null,
    item_name text, sort_order integer, metric_code text, metric_name text, metric_unit text,
    metric_value numeric(18,4), previous_month_value numeric(18,4), item_score numeric(8,2),
    previous_item_score numeric(8,2), item_score_change numeric(8,2), points numeric(8,2),
    is_adjustment boolean, is_event_count boolean, population bigint, rule text
);
create table marts.region_index_records (
    scheme_code text, month_start date, region_code text, item_code text,
    contribution numeric, denominator numeric
);
create table marts.incident_trends (
    region_code text not null, region_name text, region_level text not null, parent_code text,
    month_start date not null, metric_code text not null, metric_name text, unit text,
    sort_order integer, incident_count bigint not null, previous_month_count bigint,
    previous_month_change_pct numeric(12,2), last_year_count bigint,
    last_year_change_pct numeric(12,2), ytd_months integer not null, ytd_count bigint not null,
    last_year_ytd_count bigint, ytd_change_pct numeric(12,2), previous_month_change text,
    last_year_change text
);
create table marts.rate_reports (
    region_code text not null, region_name text, region_level text not null, parent_code text,
    month_start date not null, metric_code text not null, metric_name text, unit text,
    numerator numeric(18,4), denominator numeric(18,4), value numeric(18,4),
    previous_month_numerator numeric(18,4), previous_month_denominator numeric(18,4),
    previous_month_value numeric(18,4), previous_month_change numeric(18,4),
    last_year_value numeric(18,4), last_year_change numeric(18,4), ytd_months integer not null,
    ytd_numerator numeric(18,4), ytd_denominator numeric(18,4), ytd_value numeric(18,4),
    last_year_ytd_value numeric(18,4), ytd_change numeric(18,4)
);
"""

GOOD, FAIR, POOR = ("良好", "#91cf60"), ("平稳", "#fee08b"), ("较差", "#d73027")
# September under v2 (last month restated): code, name, score, grade, stars, warning,
# consecutive reds, escalated, veto, rank, previous rank, previous score
TOWNS_SEP = [
    ("110112209", "于家务回族乡", "93.80", GOOD, 4, "green", 0, False, False, 1, 3, "88.00"),
    ("110112104", "宋庄镇", "91.09", GOOD, 4, "green", 0, False, False, 2, 4, "80.10"),
    ("110112106", "漷县镇", "82.50", FAIR, 3, "yellow", 0, False, True, 3, 1, "95.00"),
    ("110112005", "杨庄街道", "56.57", POOR, 1, "red", 3, True, False, 4, 2, "90.00"),
]  # fmt: skip
TOWNS_AUG = [("110112106", "95.00"), ("110112005", "90.00"), ("110112209", "88.00"),
             ("110112104", "80.10")]  # fmt: skip
CATEGORIES = [("SHZA", "社会治安", 60, 1), ("MDJF", "矛盾纠纷", 40, 2)]


def _monthly_rows() -> list[dict]:
    rows = []
    for code, name, score, (
        grade,
        colour,
    ), stars, warning, reds, esc, veto, rank, prev, ps in TOWNS_SEP:
        change_pct = (Decimal(score) - Decimal(ps)) * 100 / Decimal(ps)
        rows.append(dict(
            scheme_code="majuqiao", scheme_name="马驹桥式平安指数", scheme_version=2,
            total_label="平安指数", month_start=SEP.first_day, region_code=code,
            region_name=name, region_level="township", peer_group_code="110112",
            peer_group_name="通州区", score=score, grade=grade, grade_colour=colour,
            stars=stars, warning_level=warning, consecutive_reds=reds, escalated=esc,
            red_run_months="2024-07-01,2024-08-01,2024-09-01" if reds == 3 else None,
            veto_fired=veto, rank_in_peer_group=rank, units_ranked=4, previous_rank=prev,
            rank_change=prev - rank, previous_score=ps, score_change_pct=round(change_pct, 2),
            previous_restated=True,
        ))  # fmt: skip
    names = {t[0]: t[1] for t in TOWNS_SEP}
    for rank, (code, score) in enumerate(TOWNS_AUG, start=1):
        rows.append(dict(
            scheme_code="majuqiao", scheme_name="马驹桥式平安指数", scheme_version=1,
            total_label="平安指数", month_start=AUG.first_day, region_code=code,
            region_name=names[code], region_level="township", peer_group_code="110112",
            peer_group_name="通州区", score=score, grade=GOOD[0], grade_colour=GOOD[1],
            stars=3, warning_level="green", consecutive_reds=0, escalated=False,
            veto_fired=False, rank_in_peer_group=rank, units_ranked=4,
            previous_restated=False,
        ))  # fmt: skip
    # a village scheme, first month: no last month, no trends for its town
    for rank, (code, name, score) in enumerate(
        [("442000118001", "沙口社区", "88.00"), ("442000118002", "永宁社区", "77.00")], start=1
    ):
        rows.append(dict(
            scheme_code="xiaolan", scheme_name="小榄镇平安形势指数", scheme_version=1,
            total_label="平安形势指数", month_start=SEP.first_day, region_code=code,
            region_name=name, region_level="village", peer_group_code="442000118",
            peer_group_name="小榄镇", score=score, grade="优秀" if rank == 1 else "良好",
            grade_colour="#1a9850" if rank == 1 else "#91cf60", stars=6 - rank,
            rank_in_peer_group=rank, units_ranked=2, previous_restated=False,
        ))  # fmt: skip
    return rows


def _category_rows() -> list[tuple]:
    rows = []
    for month, version, towns in ((SEP, 2, TOWNS_SEP), (AUG, 1, TOWNS_SEP)):
        for code, *_ in towns:
            total = float(dict(TOWNS_AUG)[code] if month == AUG else
                          next(t[2] for t in TOWNS_SEP if t[0] == code))  # fmt: skip
            for cat, name, points, order in CATEGORIES:
                score = round(total * points / 100, 2)
                rows.append(("majuqiao", version, month.first_day, code, cat, name, points,
                             order, score, None))  # fmt: skip
    return rows


ITEMS = [
    # region, category, item, metric, unit, value, previous, change
    ("110112209", "社会治安", "侵财警情", "侵财警情", "起", 23, 33, "1.98"),
    ("110112209", "社会治安", "火警警情", "火警警情", "起", 6, 10, "1.76"),
    ("110112209", "矛盾纠纷", "信访办结率", "信访办结率", "%", "54.5", "60.0", "-0.40"),
    ("110112104", "社会治安", "事故死亡人数", "交通事故死亡人数", "人", 0, 2, "2.00"),
    ("110112106", "社会治安", "亡人火灾一票否决", "火灾死亡人数", "人", 1, 0, "-5.00"),
    ("110112106", "矛盾纠纷", "矛盾纠纷化解率", "矛盾纠纷化解率", "%", "64.3", "77.4", "-1.13"),
]  # fmt: skip

FUNNEL = [("110112209", 10, 50000), ("110112104", 12, 60000), ("110112106", 11, 55000),
          ("110112005", 40, 50000)]  # fmt: skip
TRENDS = [
    # the flags as incident_trends' exact test gives them: 4530 against 4749 is a fall
    # beyond chance (z = −2.27), 214 against 202 is not (z = 0.59)
    ("警情总数", "police_incidents_total", 10, 4530, 4749, "-4.61", "significant_fall"),
    ("刑事警情", "police_incidents_criminal", 11, 214, 202, "5.94", "not_significant"),
]
RATES = [("矛盾纠纷化解率", "dispute_resolution_rate", "%", 282, 393, "71.7557", "79.0199",
          "-7.2642", 798, 1046, "76.2906")]  # fmt: skip


@pytest.fixture
def marts(databases):
    warehouse, _ = databases
    with connect(warehouse) as conn:
        conn.execute(MARTS_DDL)
        with conn.cursor() as cur:
            for row in _monthly_rows():
                columns = ", ".join(row)
                cur.execute(
                    f"insert into marts.region_index_monthly ({columns}) "
                    f"values ({', '.join(['%s'] * len(row))})",
                    list(row.values()),
                )
            cur.executemany(
                f"insert into marts.region_index_categories values ({', '.join(['%s'] * 10)})",
                _category_rows(),
            )
            for i, (code, cat, item, metric, unit, value, before, change) in enumerate(ITEMS):
                cur.execute(
                    "insert into marts.region_index_items (scheme_code, scheme_version, "
                    "month_start, region_code, category_name, item_code, item_name, sort_order, "
                    "metric_name, metric_unit, metric_value, previous_month_value, "
                    "item_score_change) values ('majuqiao', 2, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s, %s)",
                    (SEP.first_day, code, cat, f"I{i}", item, i, metric, unit, value, before,
                     change),
                )  # fmt: skip
            # the headline per-capita count for the funnel plot (issue 15): 杨庄街道's rate is
            # four times the others' at the same size, beyond chance
            for code, events, people in FUNNEL:
                cur.execute(
                    "insert into marts.region_index_items (scheme_code, scheme_version, "
                    "month_start, region_code, item_code, item_name, sort_order, metric_code, "
                    "metric_name, metric_unit, metric_value, is_event_count, population, rule) "
                    "values ('majuqiao', 2, %s, %s, 'FUN', '刑事警情', 99, "
                    "'police_incidents_criminal', '刑事警情', '起', %s, true, %s, "
                    "'deduct_per_unit')",
                    (SEP.first_day, code, events, people),
                )
            for name, metric, order, count, previous, pct, flag in TRENDS:
                cur.execute(
                    "insert into marts.incident_trends (region_code, region_name, region_level, "
                    "month_start, metric_code, metric_name, unit, sort_order, incident_count, "
                    "previous_month_count, previous_month_change_pct, previous_month_change, "
                    "ytd_months, ytd_count) values ('110112', '通州区', 'county', %s, %s, %s, "
                    "'起', %s, %s, %s, %s, %s, 2, %s)",
                    (SEP.first_day, metric, name, order, count, previous, pct, flag,
                     count + previous),
                )  # fmt: skip
            for name, metric, unit, num, den, value, prev, change, ynum, yden, yval in RATES:
                cur.execute(
                    "insert into marts.rate_reports (region_code, region_name, region_level, "
                    "month_start, metric_code, metric_name, unit, numerator, denominator, value, "
                    "previous_month_value, previous_month_change, ytd_months, ytd_numerator, "
                    "ytd_denominator, ytd_value) values ('110112', '通州区', 'county', %s, %s, "
                    "%s, %s, %s, %s, %s, %s, %s, 2, %s, %s, %s)",
                    (SEP.first_day, metric, name, unit, num, den, value, prev, change, ynum,
                     yden, yval),
                )  # fmt: skip
    return warehouse


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    return "".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_bulletin_html_and_pdf_say_the_month(marts, tmp_path: Path) -> None:
    result = render_bulletin(marts, "majuqiao", SEP, tmp_path)
    assert result.subject == "2024年9月通州区平安指数通报"
    assert result.html_path == tmp_path / "bulletins" / "majuqiao_2024-09.html"
    assert result.pdf_path == tmp_path / "bulletins" / "majuqiao_2024-09.pdf"
    html = result.html
    assert result.html_path.read_text(encoding="utf-8") == html
    # heading, issuing office, headline with units ranked, best and worst
    assert "通州区平安指数通报" in html and "通州区平安建设领导小组办公室" in html
    assert "通州区共有4个乡镇街道参加平安指数测评排名" in html
    assert re.search(r"于家务回族乡</span>以93\.80分位列第一", html)
    assert re.search(r"杨庄街道</span>以56\.57分排名末位", html)
    for _, name, *_ in TOWNS_SEP:
        assert name in html
    # grade in its colour, stars, rank change arrows
    assert "background:#d73027" in html and "★★★★" in html
    assert "↑2" in html and "↓2" in html
    # movers explained by their items (largest item_score_change in the move's direction)
    assert "侵财警情+1.98分（33起→23起）" in html
    assert "亡人火灾一票否决-5.00分（0人→1人）" in html
    assert "信访办结率-0.40分" not in html  # against the riser's direction
    # categories, incident trends, rates with numerator / denominator
    assert "社会治安<br>（60分）" in html
    # worded by the change's significance (issue 15), marked * in the table when beyond chance
    assert "警情总数4530起，环比明显下降4.61%" in html and "↓4.61%*" in html
    assert "刑事警情214起，环比基本持平（上升5.94%）" in html and "↑5.94%<" in html
    # the funnel plot of the headline per-capita count names the unit beyond chance
    assert "以刑事警情为例，通州区各乡镇街道平均每万人3.40起" in html
    assert "杨庄街道落在99.8%控制限之外" in html and "图5  刑事警情发生率与人口" in html
    assert (tmp_path / "bulletins" / "majuqiao_2024-09_charts" / "funnel.png").exists()
    assert "282/393" in html and "71.76%" in html and "↓7.26个百分点" in html
    # warnings, escalation, veto, restated comparison
    assert "红色预警（1个）" in html and "提级督办" in html
    # the escalation names the months it counts
    assert "杨庄街道（连续3个月红色预警：2024年7月、2024年8月、2024年9月）" in html
    assert "一票否决" in html and "漷县镇本月发生一票否决事项" in html
    assert "已按第2版方案重新计算" in html
    assert "本次修订说明" not in html
    assert "附件：majuqiao_2024-09.pdf" in html

    reader = pypdf.PdfReader(result.pdf_path)
    assert reader.metadata.title == result.subject
    text = _flat(_pdf_text(result.pdf_path))
    assert "通州区平安指数通报" in text
    assert "关于2024年9月各乡镇（街道）平安指数测评情况的通报" in text
    for _, name, *_ in TOWNS_SEP:
        assert name in text  # 漷 is outside GB2312: the subset has it all the same
    assert "排名变化较大的单位" in text and "提级督办" in text


def test_pdf_embeds_the_packaged_fonts_and_renders_without_boxes(marts, tmp_path) -> None:
    result = render_bulletin(marts, "majuqiao", SEP, tmp_path)
    reader = pypdf.PdfReader(result.pdf_path)
    used, embedded = set(), set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            used.add(str(font["/BaseFont"]))
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor and "/FontFile2" in descriptor.get_object():
                    embedded.add(str(font["/BaseFont"]))
    assert used == embedded  # every font is in the file: none from the reader's system
    assert any("NotoSansSC" in name for name in embedded), embedded
    assert any("NotoSerifSC" in name for name in embedded), embedded
    # every character the document prints has a glyph in the packaged fonts
    html_text = re.sub(r"<[^>]+>", "", result.html)
    assert fonts.missing_glyphs(html_text) == set()
    assert fonts.missing_glyphs(html_text, fonts.SERIF_FAMILY) == set()
    # page 1 renders with ink in the masthead's red
    page = pypdfium2.PdfDocument(str(result.pdf_path))[0]
    image = page.render(scale=0.6).to_pil().convert("RGB")
    reds = sum(1 for r, g, b in image.getdata() if r > 150 and g < 60 and b < 60)
    assert reds > 200


def test_charts_are_written_as_pngs(marts, tmp_path: Path) -> None:
    result = render_bulletin(marts, "majuqiao", SEP, tmp_path)
    names = [p.name for p in result.charts]
    assert names == ["ranking.png", "movers.png", "categories.png", "trends.png", "funnel.png"]
    for path in result.charts:
        assert path.parent == tmp_path / "bulletins" / "majuqiao_2024-09_charts"
        image = Image.open(path)
        assert image.format == "PNG" and image.width >= 1000
        assert len(set(image.convert("L").getdata())) > 20  # drawn, not blank
    # the PDF carries them (one image per chart)
    reader = pypdf.PdfReader(result.pdf_path)
    assert sum(len(page.images) for page in reader.pages) == 5


def test_revision_lists_the_changes(marts, tmp_path: Path) -> None:
    changes = [
        RevisionChange("宋庄镇", "score", "91.09", "90.80"),
        RevisionChange("宋庄镇", "rank", "2", "3"),
        RevisionChange("漷县镇", "grade", "平稳", "较差"),
    ]
    result = render_bulletin(marts, "majuqiao", SEP, tmp_path, revision=2, changes=changes)
    assert result.subject == "2024年9月通州区平安指数通报（第1次修订）"
    assert result.html_path.name == "majuqiao_2024-09_r2.html"
    assert result.pdf_path.name == "majuqiao_2024-09_r2.pdf"
    html = result.html
    assert "一、本次修订说明" in html  # first: readers see what changed before anything
    for change in changes:
        assert change.region_name in html and change.before in html and change.after in html
    assert ">得分<" in html and ">排名<" in html and ">等级<" in html
    text = _flat(_pdf_text(result.pdf_path))
    assert "本次修订说明" in text and "修订前后对照" in text and "90.80" in text
    assert "（第1次修订）" in text


def test_revision_without_changes_says_so(marts, tmp_path: Path) -> None:
    issued = date(2024, 10, 8)
    result = render_bulletin(marts, "majuqiao", SEP, tmp_path, revision=3, issued=issued)
    assert result.pdf_path.name == "majuqiao_2024-09_r3.pdf"
    assert "本次修订未改变各单位的得分、排名和等级" in result.html
    assert result.html.count("2024年10月8日") == 2  # under the masthead and the signature
    # the same document gives the same PDF, byte for byte
    again = render_bulletin(marts, "majuqiao", SEP, tmp_path / "again", revision=3, issued=issued)
    assert again.pdf_path.read_bytes() == result.pdf_path.read_bytes()


def test_village_scheme_first_month(marts, tmp_path: Path) -> None:
    result = render_bulletin(marts, "xiaolan", SEP, tmp_path)
    assert result.subject == "2024年9月小榄镇平安形势指数通报"
    html = result.html
    assert "小榄镇平安建设领导小组办公室" in html and "各村（社区）：" in html
    assert "沙口社区" in html and "永宁社区" in html and "★★★★★" in html
    assert "本月为首次测评" in html
    assert "警情及案事件态势" not in html  # no trend rows for 小榄镇 in this database
    assert "已按第" not in html  # not restated
    assert "沙口社区" in _flat(_pdf_text(result.pdf_path))


def test_unpublished_month_is_an_error(marts, tmp_path: Path) -> None:
    with pytest.raises(NothingPublished, match="majuqiao.*2024-07"):
        render_bulletin(marts, "majuqiao", Month(2024, 7), tmp_path)
    with pytest.raises(ValueError, match="revision"):
        render_bulletin(marts, "majuqiao", SEP, tmp_path, revision=0)
    assert not (tmp_path / "bulletins").exists()


# --- pieces, without a database -----------------------------------------------------


def test_stems_and_wording() -> None:
    assert bulletin_stem("xiaolan", SEP) == "xiaolan_2024-09"
    assert bulletin_stem("xiaolan", SEP, 2) == "xiaolan_2024-09_r2"
    assert wording.pct_change(Decimal("-4.61")) == "↓4.61%"
    assert wording.pct_change(Decimal("5.94")) == "↑5.94%"
    assert wording.pct_change(None) == "—" and wording.pct_change(Decimal(0)) == "持平"
    assert wording.unit_change(Decimal("-7.2642"), "%") == "↓7.26个百分点"
    assert wording.unit_change(Decimal("0.0428"), "分钟") == "↑0.04分钟"
    assert wording.with_unit(Decimal("16.8104"), "分钟") == "16.81分钟"
    assert wording.number(Decimal("282.0000")) == "282"
    assert wording.area_word("通州区") == "全区" and wording.area_word("小榄镇") == "全镇"
    assert wording.area_word("中山市") == "全市"


def test_escalation_names_the_months_counted() -> None:
    """A red run counts the months as published: a month never published (February,
    not scored) is not named, and the line says that such months do not count."""
    months = bulletin_data._months("2024-12-01,2025-01-01,2025-03-01")
    assert months == (Month(2024, 12), Month(2025, 1), Month(2025, 3))
    gap = bulletin_data.UnitStatus(3, True, False, months)
    assert bulletin_sections.red_run_text(gap) == (
        "连续3个月红色预警：2024年12月、2025年1月、2025年3月（未发布的月份不计）"
    )
    run = bulletin_data.UnitStatus(2, False, False, bulletin_data._months("2025-01-01,2025-02-01"))
    assert bulletin_sections.red_run_text(run) == "连续2个月红色预警：2025年1月、2025年2月"
    assert bulletin_data._months(None) == ()


def test_trend_chart_with_one_or_two_months() -> None:
    for months in (["2024.09"], ["2024.08", "2024.09"]):
        n = len(months)
        empty = [None] * n
        panels = [
            charts.Series("平安指数（分）", [80.0] * n, [60.0] * n, [95.0] * n),
            charts.Series("社会治安（得分率%）", empty, empty, empty),
        ]
        png = charts.trend_chart(months, panels, version_marks=[1] if n == 2 else [])
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width > 1000


def test_font_subset_is_truetype_and_covers_the_text() -> None:
    from fontTools.ttLib import TTFont

    data = fonts.truetype_subset(fonts.SANS_FAMILY, "漷县镇平安指数↑★")
    font = TTFont(io.BytesIO(data))
    assert "glyf" in font and "CFF " not in font
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "漷县镇平安指数↑★")
    assert len(font.getGlyphOrder()) < 30  # a subset, not the 30,000-glyph font
    assert fonts.missing_glyphs("通州区 ★") == set()
    assert fonts.missing_glyphs("\U0001f600") == {"\U0001f600"}  # an emoji has no glyph


def test_charts_are_rasterised_for_the_size_the_pdf_prints_them() -> None:
    from reportlab.lib.pagesizes import A4

    from pingan_transforms.publish import bulletin_pdf

    # the geometry charts.print_dpi assumes is the PDF's (bulletin_pdf._chart)
    assert abs(charts.PRINT_WIDTH_IN * 72 - bulletin_pdf.TEXT_WIDTH) < 1e-6
    limit = A4[1] - bulletin_pdf.MARGIN_TOP - bulletin_pdf.MARGIN_BOTTOM - 40
    assert abs(charts.PRINT_MAX_HEIGHT_IN * 72 - limit) < 1e-6

    def png_height(units: int) -> int:
        bars = [charts.Bar(f"{i} 乡镇{i}", 90 - i * 0.01, "#91cf60") for i in range(units)]
        return Image.open(io.BytesIO(charts.ranking_chart(bars, "平安指数", [], 100.0))).height

    # a chart that fits a page keeps its 200 dpi
    assert png_height(20) == round((0.7 + 0.19 * 20) * charts.DPI)
    # a taller one, which the PDF shrinks to the page, is 200 dpi at that printed size
    printed = charts.PRINT_MAX_HEIGHT_IN * charts.WIDTH_IN / charts.PRINT_WIDTH_IN
    assert abs(png_height(400) - printed * charts.DPI) <= 2


def test_a_large_ranking_is_charted_by_its_ends_and_the_caption_says_so() -> None:
    """Up to CHART_UNITS units every unit is a bar; a province's ranking is charted by its
    highest and lowest scores (named with their peer group), and the table keeps all."""
    from types import SimpleNamespace

    from pingan_transforms.publish.bulletin_sections import (
        CHART_ENDS,
        CHART_UNITS,
        _bar_label,
        _Context,
    )
    from pingan_transforms.publish.bulletin_sections import charted_units as charted
    from pingan_transforms.publish.exports import PublishedRanking, PublishedUnit
    from pingan_transforms.publish.ranking import RankingRow

    def ranking(n: int) -> _Context:
        units = tuple(
            PublishedUnit(
                row=RankingRow(
                    scheme_code="s", scheme_version=1, total_label="平安指数",
                    region_level="township", peer_group_name=f"{i % 2}县", rank=i // 2 + 1,
                    region_name=f"镇{i}", region_code=f"{i:09d}", score=Decimal(1000 - i) / 10,
                    grade="A", stars=None, warning_level=None, previous_rank=None,
                    rank_change=None, score_change_pct=None, previous_restated=False,
                ),
                peer_group_code=f"{i % 2}", grade_colour=None, units_ranked=n // 2,
                previous_score=None,
            )
            for i in range(n)
        )  # fmt: skip
        published = PublishedRanking("s", "方案", 1, "平安指数", Month.parse("2024-08"), units)
        return _Context(SimpleNamespace(ranking=published), Month.parse("2024-08"), 1, ())

    small = ranking(CHART_UNITS)
    assert charted(small) == (small.units, "")
    large = ranking(CHART_UNITS + 70)
    shown, note = charted(large)
    assert len(shown) == 2 * CHART_ENDS
    assert [u.row.region_name for u in shown[:2]] == ["镇0", "镇1"]  # best first
    assert shown[-1].row.region_name == f"镇{CHART_UNITS + 69}"  # the lowest last
    assert f"共{CHART_UNITS + 70}个乡镇" in note and f"各{CHART_ENDS}个" in note
    assert _bar_label(large, shown[-1], every_unit=False) == f"1县第65 镇{CHART_UNITS + 69}"


def test_rank_moves_are_worded_by_whether_their_intervals_overlap(marts) -> None:
    """Issue 15: a rise is 明显 only when this month's rank interval lies wholly above
    last month's; a move whose intervals overlap may be chance, and the text says so."""
    from dataclasses import replace

    from pingan_transforms.publish.bulletin import render_html
    from pingan_transforms.publish.bulletin_sections import compose

    with connect(marts) as conn:
        data = bulletin_data.read_bulletin_data(conn, "majuqiao", SEP)
    intervals = {  # (this month, last month), as the rank intervals would give them
        "于家务回族乡": ((1, 1), (3, 4)),  # 3 → 1, intervals apart: a clear rise
        "宋庄镇": ((1, 3), (2, 4)),  # 4 → 2, overlapping: maybe chance
        "漷县镇": ((2, 4), (1, 3)),
        "杨庄街道": ((4, 4), (1, 3)),  # 2 → 4, apart: a clear fall
    }
    units = tuple(
        replace(u, row=replace(u.row, previous_restated=False),
                rank_interval=intervals[u.row.region_name][0],
                previous_rank_interval=intervals[u.row.region_name][1])
        for u in data.ranking.units
    )  # fmt: skip
    assert [u.clear_move for u in units] == [True, False, False, True]
    data = replace(data, ranking=replace(data.ranking, units=units))
    html = render_html(compose(data, SEP))
    assert "排名明显上升的有于家务回族乡，上升较多的有宋庄镇" in html
    assert "排名明显下降的有杨庄街道，下降较多的有漷县镇" in html
    assert "其中宋庄镇、漷县镇本月与上月的排名区间相互重叠" in html
    assert ">排名区间</th>" in html and ">1–3</td>" in html
