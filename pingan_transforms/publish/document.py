"""The bulletin as plain data: what it says, not how it looks.

:mod:`pingan_transforms.publish.bulletin` composes a :class:`Document` once (every
Chinese sentence, every table cell and colour); the HTML template
(``templates/bulletin.html.j2``) and the PDF (:mod:`.bulletin_pdf`) only lay it out,
so the email body and the attachment can never say different things.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Run:
    """A stretch of text with one style."""

    text: str
    bold: bool = False
    colour: str | None = None  # '#rrggbb'


@dataclass(frozen=True)
class Para:
    """A paragraph: runs of text, optionally a note (smaller, grey)."""

    runs: tuple[Run, ...]
    note: bool = False

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


def para(*parts: str | Run, note: bool = False) -> Para:
    """A paragraph from plain strings and styled runs."""
    return Para(tuple(Run(p) if isinstance(p, str) else p for p in parts), note=note)


@dataclass(frozen=True)
class Cell:
    """A table cell: text, fill and text colour, weight, alignment."""

    text: str
    fill: str | None = None
    colour: str | None = None
    bold: bool = False
    align: Align = "center"


@dataclass(frozen=True)
class Table:
    """A table with one header row; ``widths`` are relative column widths."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]
    caption: str | None = None
    notes: tuple[str, ...] = ()
    small: bool = False  # many columns: a smaller font in the PDF


@dataclass(frozen=True)
class Chart:
    """A chart as PNG; ``width`` is the share of the text width it takes in the PDF."""

    key: str
    title: str
    png: bytes
    width: float = 1.0


Block = Para | Table | Chart


@dataclass(frozen=True)
class Section:
    """一、二、三…: a numbered heading and its blocks."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """The whole bulletin."""

    subject: str  # the email subject and the PDF's title
    masthead: str  # 版头: "通州区平安指数通报"
    issue: str  # "2024年第9期" / "2024年第9期（第1次修订）"
    office: str  # 发文机关: "通州区平安建设领导小组办公室"
    date: str  # "2024年10月8日"
    title: str  # "关于2024年9月各乡镇街道平安指数测评情况的通报"
    salutation: str  # "各乡镇（街道）："
    opening: tuple[Para, ...]
    sections: tuple[Section, ...]
    closing: tuple[Para, ...] = ()
    revision: int = 1

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]

    def texts(self) -> Iterator[str]:
        """Every piece of text the document prints (to choose font glyphs)."""
        yield from (self.subject, self.masthead, self.issue, self.office, self.date)
        yield from (self.title, self.salutation)
        for para in (*self.opening, *self.closing):
            yield para.text
        for section in self.sections:
            yield section.title
            for block in section.blocks:
                if isinstance(block, Para):
                    yield block.text
                elif isinstance(block, Table):
                    yield from block.header
                    yield from (cell.text for row in block.rows for cell in row)
                    yield from block.notes
                    if block.caption:
                        yield block.caption
                else:
                    yield block.title
