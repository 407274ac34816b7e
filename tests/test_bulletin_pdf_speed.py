"""The PDF's shortcuts for large tables lay out exactly what reportlab would.

bulletin_pdf builds table cells without reportlab's markup parser, breaks their lines
once per width, gives reportlab the data rows' heights and draws one-line cells as one
text object; fonts.py converts only the glyphs the subset keeps. These tests compare
each shortcut with the reportlab (or fontTools) result it replaces. No warehouse.
"""

from __future__ import annotations

import io

import pypdfium2
import pytest
from fontTools.ttLib import TTFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus.paragraph import _wsc

from pingan_transforms.publish import bulletin_pdf, fonts
from pingan_transforms.publish.document import Cell, Document, Para, Run, Section, Table

TEXTS = ["1", "马驹桥镇", "89.93", "—", "↑12", "★★★", "景宁畲族自治县大均乡", "a b", " x", "A&B",
         "2<3", "两行\n文字", "+0.50", "较差", "", "零宽\u200b空格"]  # fmt: skip
COLOURS = [None, "#1a7f37", "#c62828"]


@pytest.fixture(scope="module")
def styles() -> bulletin_pdf._Styles:
    return bulletin_pdf._styles(fonts.reportlab_fonts("".join(TEXTS) + "注：漷县"))


def _reference(cell: Cell, style) -> Paragraph:  # noqa: ANN001
    """The cell as bulletin_pdf built it before: markup parsed by reportlab."""
    from xml.sax.saxutils import escape

    text = "<br/>".join(escape(line) for line in cell.text.split("\n"))
    if cell.colour:
        text = f'<font color="{cell.colour}">{text}</font>'
    return Paragraph(text, style)


def _lines(p: Paragraph) -> str:
    """A wrapped paragraph's lines, comparable between two paragraphs."""
    bl = p.blPara
    lines = [line if isinstance(line, tuple | list) else sorted(vars(line).items())
             for line in bl.lines]  # fmt: skip
    return repr((bl.kind, lines))


def _frag_state(p: Paragraph) -> list[dict]:
    return [dict(vars(f)) for f in p.frags]


def test_whitespace_of_reportlab_is_not_plain() -> None:
    assert all(bulletin_pdf._NOT_PLAIN.match(ch) for ch in _wsc + "\xa0<>&\"'")


def test_cells_parse_like_reportlab_and_wrap_the_same(styles) -> None:  # noqa: ANN001
    cells = bulletin_pdf._Cells()
    for (small, align), style in styles.cells.items():
        for text in TEXTS:
            for colour in COLOURS:
                cell = Cell(text, colour=colour, align=align)
                fast, slow = cells(cell, style), _reference(cell, style)
                assert fast.text == slow.text
                assert _frag_state(fast) == _frag_state(slow), (text, colour, small, align)
                for width in (8.0, 30.0, 120.0, 30.0):  # narrow ones break lines
                    assert fast.wrap(width, 72000) == slow.wrap(width, 72000)
                    assert _lines(fast) == _lines(slow), (text, width)


def test_given_row_heights_are_the_ones_reportlab_measures(styles) -> None:  # noqa: ANN001
    cells = bulletin_pdf._Cells()
    block = Table(
        ("排名", "单位", "得分"),
        tuple((Cell(str(i)), Cell(t, align="left"), Cell("89.93", align="right"))
              for i, t in enumerate(TEXTS, start=1)),
        (0.6, 0.9, 1.1),
    )  # fmt: skip
    scale = bulletin_pdf.TEXT_WIDTH / 10
    widths = [w * scale for w in block.widths]
    rows = [[cells(c, styles.cells[(False, c.align)]) for c in row] for row in block.rows]
    given = bulletin_pdf._row_heights(rows, widths)
    measured = RLTable(
        [[_reference(c, styles.cells[(False, c.align)]) for c in row] for row in block.rows],
        colWidths=widths,
    )
    pad = bulletin_pdf.PAD_TOP, bulletin_pdf.PAD_BOTTOM, bulletin_pdf.PAD_X
    measured.setStyle([("TOPPADDING", (0, 0), (-1, -1), pad[0]),
                       ("BOTTOMPADDING", (0, 0), (-1, -1), pad[1]),
                       ("LEFTPADDING", (0, 0), (-1, -1), pad[2]),
                       ("RIGHTPADDING", (0, 0), (-1, -1), pad[2])])  # fmt: skip
    measured.wrap(sum(widths), 72000)
    assert given == measured._rowHeights
    assert max(given) > min(given)  # some cells wrapped to more lines


def test_one_line_cells_print_where_paragraph_prints_them(styles) -> None:  # noqa: ANN001
    cells = bulletin_pdf._Cells()

    def draw(make) -> bytes:  # noqa: ANN001
        out = io.BytesIO()
        canvas = Canvas(out, pagesize=A4, invariant=1)
        y = 780.0
        for (_small, align), style in sorted(styles.cells.items()):
            for text in TEXTS:
                for colour in COLOURS:
                    p = make(Cell(text, colour=colour, align=align), style)
                    _, height = p.wrap(120, 72000)
                    p.drawOn(canvas, 40 + 130 * COLOURS.index(colour), y - height)
                    y -= height + 2
                    if y < 60:
                        canvas.showPage()
                        y = 780.0
        canvas.save()
        return out.getvalue()

    fast, slow = draw(cells), draw(_reference)
    assert fast != slow  # the shortcut is taken...
    fast_doc, slow_doc = pypdfium2.PdfDocument(fast), pypdfium2.PdfDocument(slow)
    assert len(fast_doc) == len(slow_doc)
    for i in range(len(fast_doc)):  # ...and prints the same pixels and text
        assert (
            fast_doc[i].render(scale=3).to_pil().tobytes()
            == slow_doc[i].render(scale=3).to_pil().tobytes()
        )
        assert (
            fast_doc[i].get_textpage().get_text_range()
            == slow_doc[i].get_textpage().get_text_range()
        )


def test_a_long_table_splits_over_pages_with_every_row(tmp_path) -> None:  # noqa: ANN001
    rows = tuple(
        (Cell(str(i)), Cell(f"单位{i}", align="left"), Cell(f"{i / 7:.2f}", align="right",
                                                         colour="#c62828" if i % 3 else None))
        for i in range(1, 301)
    )  # fmt: skip
    doc = Document(
        subject="测试", masthead="测试通报", issue="2024年第8期", office="测试办",
        date="2024年9月5日",
        title="测试", salutation="各单位：", opening=(Para((Run("开头。"),)),),
        sections=(Section("一、排名", (Table(("排名", "单位", "得分"), rows, (0.6, 1.8, 1.1),
                                            "排名表", ("注释一。",)),)),),
    )  # fmt: skip
    pdf = bulletin_pdf.render_pdf(doc)
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) > 5
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for i in (1, 150, 300):
        assert f"单位{i}" in text
    assert text.count("排名") >= len(document) - 1  # the header is repeated on every page
    assert "注：注释一。" in text


def test_font_subset_draws_the_glyphs_of_the_font() -> None:
    data = fonts.truetype_subset(fonts.SERIF_FAMILY, "平安指数漷", "Test-Serif")
    font = TTFont(io.BytesIO(data))
    assert "glyf" in font and "CFF " not in font and "GSUB" not in font
    original = TTFont(fonts.font_path(fonts.SERIF_FAMILY))
    cmap, original_cmap = font.getBestCmap(), original.getBestCmap()
    for ch in "平安指数漷":
        glyph = font["glyf"][cmap[ord(ch)]]
        glyph.recalcBounds(font["glyf"])
        bounds = original.getGlyphSet()[original_cmap[ord(ch)]]
        from fontTools.pens.boundsPen import BoundsPen

        pen = BoundsPen(original.getGlyphSet())
        bounds.draw(pen)
        x0, y0, x1, y1 = pen.bounds
        assert abs(glyph.xMin - x0) <= 2 and abs(glyph.yMax - y1) <= 2, ch
        assert font["hmtx"][cmap[ord(ch)]] == original["hmtx"][original_cmap[ord(ch)]]
