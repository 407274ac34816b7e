"""The bulletin as an A4 PDF (reportlab platypus), laid out like a district 通报.

Masthead in red, issue line, issuing office and date over a red rule, the title,
then the numbered sections: body text in Noto Serif SC (宋体-like, first lines
indented two characters), headings and tables in Noto Sans SC (黑体-like), charts as
PNG at text width, "— n —" page numbers. The fonts are subset to the document's
characters and embedded (:func:`pingan_transforms.publish.fonts.reportlab_fonts`).
The output is byte-for-byte reproducible for the same document (``invariant``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    Image,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus import paragraph as rl_paragraph

from pingan_transforms.publish.document import Cell, Chart, Document, Para, Table
from pingan_transforms.publish.fonts import PdfFonts, reportlab_fonts

RED = colors.HexColor("#c00000")
HEADER_FILL = colors.HexColor("#dde8f3")
GRID = colors.HexColor("#9db3c8")
ZEBRA = colors.HexColor("#f7f9fb")
NOTE_FILL = colors.HexColor("#fff8e1")
GREY = colors.HexColor("#666666")
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 20 * mm, 20 * mm, 18 * mm
TEXT_WIDTH = A4[0] - 2 * MARGIN_X
PAGE_LABEL = "— {n} —"
STATIC_TEXT = PAGE_LABEL + "0123456789注："  # printed by this module, not the document

# reportlab's CJK line breaking keeps Japanese closing marks off the start of a line but
# not the Chinese full-width ones (，；：！？”’》…): add them, once, to both of its line
# breakers (textsplit for plain paragraphs, paragraph for styled ones).
_CHINESE_CANNOT_START = "，；：！？”’》〉」』…％"
for _module in (rl_textsplit, rl_paragraph):
    _module.ALL_CANNOT_START += "".join(
        ch for ch in _CHINESE_CANNOT_START if ch not in _module.ALL_CANNOT_START
    )


@dataclass(frozen=True)
class _Styles:
    masthead: ParagraphStyle
    issue: ParagraphStyle
    office: ParagraphStyle
    office_right: ParagraphStyle
    title: ParagraphStyle
    body: ParagraphStyle
    plain: ParagraphStyle
    note: ParagraphStyle
    heading: ParagraphStyle
    caption: ParagraphStyle
    table_note: ParagraphStyle
    signature: ParagraphStyle
    cells: dict[tuple[bool, str], ParagraphStyle]
    header: dict[bool, ParagraphStyle]


def _styles(f: PdfFonts) -> _Styles:
    body = ParagraphStyle("body", fontName=f.serif, fontSize=11, leading=19,
                          firstLineIndent=22, alignment=TA_JUSTIFY, wordWrap="CJK",
                          spaceBefore=2, spaceAfter=2)  # fmt: skip
    aligns = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}
    cells = {
        (small, align): ParagraphStyle(
            f"cell-{small}-{align}", fontName=f.sans, fontSize=7.2 if small else 8.4,
            leading=9.6 if small else 11, alignment=aligns[align], wordWrap="CJK",
        )
        for small in (False, True)
        for align in aligns
    }  # fmt: skip
    header = {
        small: ParagraphStyle(f"head-{small}", parent=cells[(small, "center")],
                              textColor=colors.HexColor("#1f3550"))
        for small in (False, True)
    }  # fmt: skip
    return _Styles(
        masthead=ParagraphStyle("masthead", fontName=f.serif, fontSize=28, leading=36,
                                alignment=TA_CENTER, textColor=RED),
        issue=ParagraphStyle("issue", fontName=f.serif, fontSize=11, leading=16,
                             alignment=TA_CENTER, spaceBefore=4, spaceAfter=8),
        office=ParagraphStyle("office", fontName=f.serif, fontSize=11, leading=16),
        office_right=ParagraphStyle("office-r", fontName=f.serif, fontSize=11, leading=16,
                                    alignment=TA_RIGHT),
        title=ParagraphStyle("title", fontName=f.serif, fontSize=16, leading=25,
                             alignment=TA_CENTER, spaceBefore=10, spaceAfter=12,
                             wordWrap="CJK"),
        body=body,
        plain=ParagraphStyle("plain", parent=body, firstLineIndent=0),
        note=ParagraphStyle("note", fontName=f.sans, fontSize=8.8, leading=14,
                            wordWrap="CJK", backColor=NOTE_FILL, borderPadding=(4, 6, 4, 6),
                            textColor=colors.HexColor("#5d4a00"), spaceBefore=6,
                            spaceAfter=8, leftIndent=6, rightIndent=6),
        heading=ParagraphStyle("heading", fontName=f.sans, fontSize=13, leading=20,
                               spaceBefore=10, spaceAfter=4, keepWithNext=True),
        caption=ParagraphStyle("caption", fontName=f.sans, fontSize=9.5, leading=14,
                               alignment=TA_CENTER, spaceBefore=8, spaceAfter=4,
                               wordWrap="CJK"),
        table_note=ParagraphStyle("table-note", fontName=f.sans, fontSize=7.6, leading=11,
                                  textColor=GREY, wordWrap="CJK", spaceBefore=2,
                                  leftIndent=17, firstLineIndent=-17),
        signature=ParagraphStyle("signature", fontName=f.serif, fontSize=11, leading=19,
                                 alignment=TA_RIGHT),
        cells=cells,
        header=header,
    )  # fmt: skip


def _markup(para: Para, fonts: PdfFonts) -> str:
    """A paragraph's runs as reportlab markup; bold is set in the sans face (黑体)."""
    out = []
    for run in para.runs:
        text = escape(run.text)
        attrs = []
        if run.bold:
            attrs.append(f'name="{fonts.sans}"')
        if run.colour:
            attrs.append(f'color="{run.colour}"')
        out.append(f"<font {' '.join(attrs)}>{text}</font>" if attrs else text)
    return "".join(out)


def _cell(cell: Cell, style: ParagraphStyle, fonts: PdfFonts) -> Paragraph:
    text = "<br/>".join(escape(line) for line in cell.text.split("\n"))
    if cell.colour:
        text = f'<font color="{cell.colour}">{text}</font>'
    return Paragraph(text, style)


def _table(block: Table, s: _Styles, fonts: PdfFonts) -> list[Flowable]:
    """Caption, then the table; its notes are a last row spanning all columns, so they
    follow the last rows onto a page and never stand alone."""
    header = [
        Paragraph("<br/>".join(escape(line) for line in head.split("\n")), s.header[block.small])
        for head in block.header
    ]
    body = [
        [_cell(cell, s.cells[(block.small, cell.align)], fonts) for cell in row]
        for row in block.rows
    ]
    columns = len(block.header)
    rows: list[list] = [header, *body]
    if block.notes:
        notes = [
            Paragraph(("注：" if i == 0 else "") + escape(note), s.table_note)
            for i, note in enumerate(block.notes)
        ]
        rows.append([notes] + [""] * (columns - 1))
    scale = TEXT_WIDTH / sum(block.widths)
    table = RLTable(rows, colWidths=[w * scale for w in block.widths], repeatRows=1)
    last = len(block.rows)  # index of the last data row
    commands: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), fonts.sans),  # not the default Helvetica
        ("GRID", (0, 0), (-1, last), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if block.notes:
        commands += [
            ("SPAN", (0, last + 1), (-1, last + 1)),
            ("LEFTPADDING", (0, last + 1), (-1, last + 1), 0),
            ("TOPPADDING", (0, last + 1), (-1, last + 1), 3),
        ]
    for r, row in enumerate(block.rows, start=1):
        if r % 2 == 0:
            commands.append(("BACKGROUND", (0, r), (-1, r), ZEBRA))
        for c, cell in enumerate(row):
            if cell.fill:
                commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor(cell.fill)))
    table.setStyle(TableStyle(commands))
    flow: list[Flowable] = [CondPageBreak(45 * mm)]  # a caption starts its table
    if block.caption:
        flow.append(Paragraph(escape(block.caption), s.caption))
    flow += [table, Spacer(1, 4)]
    return flow


def _chart(block: Chart, s: _Styles) -> Flowable:
    image = Image(io.BytesIO(block.png))
    width = TEXT_WIDTH * block.width
    ratio = image.imageHeight / image.imageWidth
    height = width * ratio
    limit = A4[1] - MARGIN_TOP - MARGIN_BOTTOM - 40
    if height > limit:  # a tall chart shrinks to fit a page with its caption
        width, height = limit / ratio, limit
    image.drawWidth, image.drawHeight = width, height
    image.hAlign = "CENTER"
    return KeepTogether([Spacer(1, 4), image, Paragraph(escape(block.title), s.caption)])


def _story(doc: Document, s: _Styles, fonts: PdfFonts) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph(escape(doc.masthead), s.masthead),
        Paragraph(escape(doc.issue), s.issue),
    ]
    head = RLTable(
        [[Paragraph(escape(doc.office), s.office), Paragraph(escape(doc.date), s.office_right)]],
        colWidths=[TEXT_WIDTH * 0.7, TEXT_WIDTH * 0.3],
    )
    head.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.sans),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))  # fmt: skip
    story += [
        head,
        HRFlowable(width="100%", thickness=1.6, color=RED, spaceBefore=2, spaceAfter=6),
        Paragraph(escape(doc.title), s.title),
        Paragraph(escape(doc.salutation), s.plain),
    ]
    story += [Paragraph(_markup(p, fonts), s.note if p.note else s.body) for p in doc.opening]
    for section in doc.sections:
        story.append(CondPageBreak(60 * mm))  # no heading alone at the foot of a page
        story.append(Paragraph(escape(section.title), s.heading))
        for block in section.blocks:
            if isinstance(block, Para):
                story.append(Paragraph(_markup(block, fonts), s.note if block.note else s.body))
            elif isinstance(block, Table):
                story.extend(_table(block, s, fonts))
            else:
                story.append(_chart(block, s))
    ending: list[Flowable] = [Paragraph(_markup(p, fonts), s.body) for p in doc.closing]
    ending += [Spacer(1, 12 * mm), Paragraph(escape(doc.office), s.signature),
               Paragraph(escape(doc.date), s.signature)]  # fmt: skip
    story.append(KeepTogether(ending))  # the signature never stands alone on a page
    return story


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    fonts = reportlab_fonts("".join(doc.texts()) + STATIC_TEXT)
    styles = _styles(fonts)
    out = io.BytesIO()

    def page(canvas, template) -> None:  # noqa: ANN001 (reportlab callback)
        canvas.saveState()
        canvas.setFont(fonts.serif, 10)
        canvas.setFillColor(colors.black)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, PAGE_LABEL.format(n=canvas.getPageNumber()))
        if canvas.getPageNumber() > 1:
            canvas.setFont(fonts.sans, 7.5)
            canvas.setFillColor(GREY)
            canvas.drawRightString(A4[0] - MARGIN_X, A4[1] - 12 * mm, doc.subject)
            canvas.setStrokeColor(colors.HexColor("#cccccc"))
            canvas.setLineWidth(0.4)
            canvas.line(MARGIN_X, A4[1] - 13.5 * mm, A4[0] - MARGIN_X, A4[1] - 13.5 * mm)
        canvas.restoreState()

    frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_WIDTH, A4[1] - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
    template = BaseDocTemplate(
        out, pagesize=A4, pageTemplates=[PageTemplate("page", [frame], onPage=page)],
        title=doc.subject, author=doc.office, subject=doc.title, creator="pingan_transforms",
        invariant=1, initialFontName=fonts.sans,  # not Helvetica: no font outside the PDF
    )  # fmt: skip
    template.build(_story(doc, styles, fonts))
    return out.getvalue()
