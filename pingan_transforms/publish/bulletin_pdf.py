"""The bulletin as an A4 PDF (reportlab platypus), laid out like a district 通报.

Masthead in red, issue line, issuing office and date over a red rule, the title,
then the numbered sections: body text in Noto Serif SC (宋体-like, first lines
indented two characters), headings and tables in Noto Sans SC (黑体-like), charts as
PNG at text width, "— n —" page numbers. The fonts are subset to the document's
characters and embedded (:func:`pingan_transforms.publish.fonts.reportlab_fonts`).
The output is byte-for-byte reproducible for the same document (``invariant``).

A province's bulletin has tables of 1,365 rows (~46,000 cells, 168 pages), and
reportlab's per-cell work was most of its rendering time. Table cells are therefore
:class:`_CellParagraph` objects, built, wrapped and drawn with shortcuts that give
what a plain :class:`Paragraph` gives (tests/test_bulletin_pdf_speed.py compares
them): no markup parser for plain text, one line breaking per width, row heights
handed to the Table, a one-line cell set as a single text object.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
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
from reportlab.platypus.paraparser import ParaFrag

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
PAD_TOP, PAD_BOTTOM, PAD_X = 2.2, 2.6, 3  # table cell paddings (points)
_UNBOUNDED = 72000  # the height reportlab's Table offers a cell to wrap in
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


_SAME_WIDTH = 1e-6  # points: far below what the PDF prints (fp_str keeps 2 to 6 decimals)


class _CellParagraph(Paragraph):
    """A table cell's paragraph, laid out exactly as :class:`Paragraph` lays it out, but
    broken into lines once per width.

    reportlab's Table measures every cell when it sizes a table, again for the rest of
    the table after each page break, and once more when it draws the cell: a province's
    ranking and category tables (1,365 rows each, ~28,000 cells) were wrapped 120,000
    times. The line breaking depends only on the text, the style and the width, so a
    second wrap at the same width keeps the first one's lines. "The same" allows for
    rounding: a table with a spanned row (the notes) draws its cells at widths taken
    from column positions, which differ from the measured widths in the 14th digit.
    """

    _wrapped_at: float | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._wrapped_at is not None and abs(availWidth - self._wrapped_at) < _SAME_WIDTH:
            self.width = availWidth  # as Paragraph.wrap sets it: the cell aligns on it
            return self.width, self.height
        size = super().wrap(availWidth, availHeight)
        self._wrapped_at = availWidth
        return size

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: ANN001, ANN201, N803 (reportlab's signature)
        """A cell of one line is set as one text object where it stands: the glyphs, font,
        colour and positions Paragraph.drawPara gives it (its baseline one font size
        below the top of the line, shifted by the alignment's share of the space left),
        without the two saved graphics states, the translation and the cursor moves it
        wraps around every cell. Anything else is drawn by Paragraph."""
        line = self._single_line() if not _sW else None
        if line is None:
            return super().drawOn(canvas, x, y, _sW)
        f, shift, text = line
        # most cells are black after black: set the colour only when it changes (the
        # canvas keeps the current fill colour, restored with each saved state)
        if canvas._fillColorObj != f.textColor:
            canvas.setFillColor(f.textColor)
        tx = canvas.beginText(x + shift, y + self.height - f.fontSize)
        tx.setFont(f.fontName, f.fontSize, self.style.leading)
        tx.textLine(text)  # as Paragraph ends its lines (T*); textOut would measure it
        canvas.drawText(tx)
        return None

    def _single_line(self) -> tuple[ParaFrag, float, str] | None:
        """(fragment, offset from the left, text) of a plain one-line paragraph, the
        case :meth:`drawOn` sets itself; None for anything else."""
        style, bl = self.style, getattr(self, "blPara", None)
        if (
            bl is None or bl.kind != 0 or len(bl.lines) != 1 or self.bulletText
            or style.backColor or style.borderWidth or style.leftIndent
            or style.firstLineIndent or style.wordWrap != "CJK"
            or getattr(self, "autoLeading", getattr(style, "autoLeading", "")) not in ("", "off")
            or getattr(bl, "us_lines", None) or getattr(bl, "link", None)
            or getattr(self, "_offsets", None)
        ):  # fmt: skip
            return None
        space, words = bl.lines[0]
        if not space > -1e-8 or len(words) != 1:  # overfull: drawn with word spacing
            return None
        if style.alignment == TA_LEFT:
            shift = 0.0
        elif style.alignment == TA_CENTER:
            shift = 0.5 * space
        elif style.alignment == TA_RIGHT:
            shift = space
        else:
            return None
        return bl, shift, words[0]

    def breakLinesCJK(self, maxWidths):  # noqa: ANN001, ANN201, N802 (reportlab's signature)
        """Paragraph.breakLinesCJK of a one-fragment paragraph (every plain cell), with the
        character widths looked up once per font instead of measured per character and
        cell (textsplit.wordSplit); the same widths in the same sums, so the same lines."""
        frags = self.frags
        f = frags[0] if len(frags) == 1 else None
        if (
            f is None or hasattr(f, "cbDefn") or not hasattr(f, "text") or self.style.endDots
            or self.bulletText or getattr(self, "_splitpara", 0)
        ):  # fmt: skip
            return super().breakLinesCJK(maxWidths)
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        self.height = 0
        widths = [_char_width(ch, f.fontName, f.fontSize) for ch in f.text]
        lines = rl_textsplit.dumbSplit(f.text, widths, maxWidths)
        return f.clone(
            kind=0, lines=[(sp, [line]) for sp, line in lines],
            ascent=f.fontSize, descent=-0.2 * f.fontSize,
        )  # fmt: skip


@lru_cache(maxsize=65536)
def _char_width(char: str, font: str, size: float) -> float:
    """One character's advance, as textsplit.getCharWidths measures it. Font names carry
    a hash of their subset's characters (fonts.reportlab_fonts), so a name always means
    the same metrics."""
    return stringWidth(char, font, size)


class _Cells:
    """Table cell paragraphs of one rendering, without running reportlab's markup parser
    for every cell.

    Parsing (an ``html.parser`` pass per cell) was a third of a province bulletin's
    table time. A cell of plain text parses to one fragment that differs from any other
    cell's of the same style and colour only in its text: that fragment is parsed once
    per (style, colour) and cloned with each cell's text. Text the parser would change
    (markup characters, line breaks, runs or ends of white space) is parsed as before.
    """

    def __init__(self) -> None:
        self._templates: dict[tuple[str, str | None], ParaFrag | None] = {}

    def __call__(self, cell: Cell, style: ParagraphStyle) -> Paragraph:
        plain = _plain(cell.text)  # then escaping and line breaks change nothing
        markup = cell.text if plain else "<br/>".join(map(escape, cell.text.split("\n")))
        if cell.colour:
            markup = f'<font color="{cell.colour}">{markup}</font>'
        template = self._template(style, cell.colour) if plain else None
        if template is None:
            return _CellParagraph(markup, style)
        # what Paragraph.__init__ does with the fragments the parser would return
        return _CellParagraph(markup, style, frags=[template.clone(text=cell.text)])

    def _template(self, style: ParagraphStyle, colour: str | None) -> ParaFrag | None:
        key = (style.name, colour)
        if key not in self._templates:
            sample = "X" if colour is None else f'<font color="{colour}">X</font>'
            frags = Paragraph(sample, style).frags
            ok = len(frags) == 1 and getattr(frags[0], "text", None) == "X"
            self._templates[key] = frags[0] if ok else None
        return self._templates[key]


# markup characters and white space (reportlab's own list includes the zero-width space)
_NOT_PLAIN = re.compile("[\\s\u200b<>&\"']")


def _plain(text: str) -> bool:
    """Text that reportlab's paragraph parser returns unchanged as one fragment: no
    markup characters, no white space it would strip or collapse."""
    return bool(text) and _NOT_PLAIN.search(text) is None


def _table(block: Table, s: _Styles, fonts: PdfFonts, cells: _Cells) -> list[Flowable]:
    """Caption, then the table; its notes are a last row spanning all columns, so they
    follow the last rows onto a page and never stand alone.

    The data rows' heights are given to reportlab, computed as its Table computes them
    (tallest wrapped cell plus the paddings, the same floating-point steps): otherwise
    it measures every cell of the rest of a long table again after each page break.
    The header and the notes row are still measured by reportlab.
    """
    header = [  # _CellParagraph: measured again on every page the table continues on
        _CellParagraph(
            "<br/>".join(escape(line) for line in head.split("\n")), s.header[block.small]
        )
        for head in block.header
    ]
    body = [[cells(c, s.cells[(block.small, c.align)]) for c in row] for row in block.rows]
    columns = len(block.header)
    rows: list[list] = [header, *body]
    if block.notes:
        notes = [
            _CellParagraph(("注：" if i == 0 else "") + escape(note), s.table_note)
            for i, note in enumerate(block.notes)
        ]
        rows.append([notes] + [""] * (columns - 1))
    scale = TEXT_WIDTH / sum(block.widths)
    widths = [w * scale for w in block.widths]
    heights = [None, *_row_heights(body, widths), *([None] if block.notes else [])]
    table = RLTable(rows, colWidths=widths, rowHeights=heights, repeatRows=1)
    last = len(block.rows)  # index of the last data row
    commands: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), fonts.sans),  # not the default Helvetica
        ("GRID", (0, 0), (-1, last), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
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


def _row_heights(rows: list[list[Paragraph]], widths: list[float]) -> list[float]:
    """Each row's height as reportlab's Table._calc_height computes it for cells of one
    paragraph each with the table's paddings: the tallest of (wrapped height + (bottom
    + top padding)), each cell wrapped at its column width less (left, then right)
    padding."""
    inner = [w - PAD_X - PAD_X for w in widths]
    padding = PAD_BOTTOM + PAD_TOP
    return [
        max(
            cell.wrap(width, _UNBOUNDED)[1] + padding
            for cell, width in zip(row, inner, strict=True)
        )
        for row in rows
    ]


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
    cells = _Cells()
    for section in doc.sections:
        story.append(CondPageBreak(60 * mm))  # no heading alone at the foot of a page
        story.append(Paragraph(escape(section.title), s.heading))
        for block in section.blocks:
            if isinstance(block, Para):
                story.append(Paragraph(_markup(block, fonts), s.note if block.note else s.body))
            elif isinstance(block, Table):
                story.extend(_table(block, s, fonts, cells))
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
