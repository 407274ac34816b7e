"""The month's bulletin (通报) of one scheme, in Chinese: HTML email body and PDF.

:func:`render_bulletin` reads the published marts (:mod:`.bulletin_data`), composes
one :class:`~pingan_transforms.publish.document.Document` (every sentence, table and
chart: :mod:`.bulletin_sections`, in :mod:`.wording`'s words) and lays it out twice
(here, and :mod:`.bulletin_pdf`):

- ``<out_dir>/bulletins/<scheme>_<YYYY-MM>.html`` (``_r<n>`` for revision n > 1): the
  email body, self-contained (inline styles, tables, no images: mail clients block
  ``data:`` images, and the charts are in the PDF);
- ``….pdf``: the attachment, A4, with the charts, its text in Noto Serif SC / Noto
  Sans SC embedded from the Python package (:mod:`.fonts`), never a system font.

Contents, as a district office's 通报 reads: masthead, issuing office and date, title;
一 overall (units ranked, best and worst, mean, grades); 二 the ranking (grade in its
colour, stars, warning, rank change arrows) with a bar chart; 三 the biggest risers
and fallers with the items that moved them (``region_index_items``); 四 category
scores (table, heat map, 12-month trends); 五 incidents against last month, last
year and the year to date (``incident_trends`` of the peer-group region); 六 rates
with numerators and denominators (``rate_reports``); 七 warnings, escalations and
vetoes; 八 for a revision, what changed since the last one. When last month was
published under another scheme version, the bulletin says that its comparison is
restated under this month's version.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from markupsafe import Markup, escape

from pingan_transforms.fileio import atomic_write_bytes
from pingan_transforms.months import Month
from pingan_transforms.publish.bulletin_data import (
    Correction,
    NothingPublished,
    RevisionChange,
    read_bulletin_data,
)
from pingan_transforms.publish.bulletin_sections import compose
from pingan_transforms.publish.document import (
    Chart,
    Document,
    Para,
    Table,
)
from pingan_transforms.warehouse import WarehouseTarget, connect

TEMPLATES = Path(__file__).parent / "templates"
HTML_TEMPLATE = "bulletin.html.j2"


@dataclass(frozen=True)
class Bulletin:
    subject: str  # Chinese, e.g. "2024年9月通州区平安指数通报（第1次修订）"
    html: str  # the HTML email body (self-contained, no images)
    html_path: Path
    pdf_path: Path
    charts: tuple[Path, ...] = ()  # the PNGs embedded in the PDF, for inline use by mail


def bulletin_stem(scheme_code: str, month: Month, revision: int = 1) -> str:
    """``<scheme>_<YYYY-MM>``, with ``_r<n>`` for revision n > 1."""
    return f"{scheme_code}_{month}" + (f"_r{revision}" if revision > 1 else "")


def _html_lines(text: str) -> Markup:
    """A cell's text for HTML: escaped, its line breaks as ``<br>``."""
    return Markup("<br>").join(escape(line) for line in text.split("\n"))


def render_html(document: Document, attachment: str | None = None) -> str:
    """The email body: the document without charts (they are in the attached PDF)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["para"] = lambda block: isinstance(block, Para)
    env.tests["table"] = lambda block: isinstance(block, Table)
    env.tests["chart"] = lambda block: isinstance(block, Chart)
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    # a filter, not a template macro: a province's tables have ~48,000 cells, and a macro
    # call per cell was most of the email body's rendering time
    env.filters["lines"] = _html_lines
    template = env.get_template(HTML_TEMPLATE)
    return template.render(doc=document, attachment=attachment)


def write_bulletin(document: Document, directory: Path, stem: str) -> Bulletin:
    """HTML, PDF and chart PNGs of a composed document under ``directory``."""
    from pingan_transforms.publish.bulletin_pdf import render_pdf

    pdf_path = directory / f"{stem}.pdf"
    html = render_html(document, attachment=pdf_path.name)
    chart_paths = tuple(
        atomic_write_bytes(directory / f"{stem}_charts" / f"{chart.key}.png", chart.png)
        for chart in document.charts()
    )
    atomic_write_bytes(pdf_path, render_pdf(document))
    html_path = atomic_write_bytes(directory / f"{stem}.html", html.encode("utf-8"))
    return Bulletin(document.subject, html, html_path, pdf_path, chart_paths)


def render_bulletin(
    target: WarehouseTarget,
    scheme_code: str,
    month: Month,
    out_dir: Path,
    revision: int = 1,
    changes: Sequence[RevisionChange] = (),
    *,
    corrections: Sequence[Correction] = (),
    appeals: Sequence[str] = (),
    issued: date | None = None,
) -> Bulletin:
    """The scheme's bulletin for the month: ``<out_dir>/bulletins/<stem>.html|.pdf``.

    ``issued`` is the date printed under the issuing office (default: today in Beijing);
    ``appeals`` describe the appeals (申诉) a revision counts, named in 本次修订说明.
    Raises :class:`NothingPublished` when the month has no published ranking.
    """
    if revision < 1:
        raise ValueError(f"revision must be 1 or more, not {revision}")
    with connect(target) as conn:
        data = read_bulletin_data(conn, scheme_code, month)
    if issued is not None:
        data = replace(data, issued=issued)
    document = compose(data, month, revision, changes, corrections, appeals)
    return write_bulletin(
        document, Path(out_dir) / "bulletins", bulletin_stem(scheme_code, month, revision)
    )


__all__ = [
    "Bulletin",
    "NothingPublished",
    "RevisionChange",
    "bulletin_stem",
    "compose",
    "read_bulletin_data",
    "render_bulletin",
    "render_html",
    "write_bulletin",
]
