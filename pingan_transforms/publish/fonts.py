"""The bulletin's Chinese fonts: Noto Sans SC and Noto Serif SC from a Python package.

The fonts come from the ``pylopdf-fonts-zh-cn`` wheel (files of notofonts/noto-cjk,
SIL Open Font License 1.1), never from the system, so charts and PDF look the same on
every machine and need no ``apt-get``. Their SHA-256 are checked against the ones the
package documents, so a different file is an error, not a silently different layout.

- **matplotlib** reads the OpenType (CFF) files directly: :func:`matplotlib_family`
  adds them to its font manager and returns the family names to use.
- **reportlab** embeds only TrueType outlines, so :func:`reportlab_fonts` subsets the
  font to the characters a document uses and converts that subset's CFF outlines to
  TrueType (fontTools, cubic → quadratic within 1/1000 em), then registers it. A
  bulletin uses a few hundred characters: this takes well under a second, where
  converting all 30,000 glyphs would take half a minute.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph

SANS_FAMILY = "Noto Sans SC"
SERIF_FAMILY = "Noto Serif SC"
LICENCE = "SIL Open Font License 1.1 (notofonts/noto-cjk, via pylopdf-fonts-zh-cn 0.1.1)"

# As documented by pylopdf-fonts-zh-cn 0.1.1 (noto-cjk f8d1575, SubsetOTF/SC).
_SHA256 = {
    "NotoSansSC-Regular.otf": "faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9",
    "NotoSerifSC-Regular.otf": "e8f396decc1f0963a016a989c3d8852e863d1350996f573860a80767c83a1cd3",
}
_MAX_ERROR_EM = 1 / 1000  # cubic-to-quadratic tolerance: invisible at any print size


class FontError(RuntimeError):
    """The packaged font is missing or not the expected file."""


@cache
def font_path(family: str) -> Path:
    """The checked OpenType file of ``Noto Sans SC`` or ``Noto Serif SC``."""
    paths = {
        SANS_FAMILY: pylopdf_fonts_zh_cn.sans_path(),
        SERIF_FAMILY: pylopdf_fonts_zh_cn.serif_path(),
    }
    if family not in paths:
        raise FontError(f"unknown font family {family!r}: use {SANS_FAMILY!r} or {SERIF_FAMILY!r}")
    path = Path(paths[family])
    if not path.is_file():
        raise FontError(f"{path} is missing: reinstall the venv (make venv)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != _SHA256.get(path.name):
        raise FontError(
            f"{path} has SHA-256 {digest}, not the one pylopdf-fonts-zh-cn 0.1.1 documents: "
            "install the version pinned in requirements.lock"
        )
    return path


@cache
def covered(family: str = SANS_FAMILY) -> frozenset[int]:
    """Code points the font draws."""
    return frozenset(TTFont(font_path(family), lazy=True).getBestCmap())


def missing_glyphs(text: str, family: str = SANS_FAMILY) -> set[str]:
    """Characters of ``text`` the font has no glyph for (they would print as boxes)."""
    have = covered(family)
    return {ch for ch in text if not ch.isspace() and ord(ch) not in have}


# ---------------------------------------------------------------------------
# matplotlib
# ---------------------------------------------------------------------------


@cache
def matplotlib_family() -> list[str]:
    """Register both fonts with matplotlib; the ``font.family`` list to use (sans first)."""
    from matplotlib import font_manager

    for family in (SANS_FAMILY, SERIF_FAMILY):
        font_manager.fontManager.addfont(str(font_path(family)))
    return [SANS_FAMILY, SERIF_FAMILY]


# ---------------------------------------------------------------------------
# reportlab
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfFonts:
    """reportlab font names registered for one document's characters."""

    sans: str
    serif: str


def truetype_subset(family: str, text: str, postscript_name: str | None = None) -> bytes:
    """A TrueType-outline font with the glyphs of ``text`` (and .notdef), as bytes;
    ``postscript_name`` renames it (reportlab tells fonts apart by that name)."""
    return _truetype_subset(family, frozenset(text), postscript_name)


#: Tables reportlab never reads from a TrueType font it embeds (it writes its own subset
#: from name, OS/2, post, hhea, hmtx, maxp, cmap, loca, glyf and head): dropped before
#: subsetting, where the layout tables of a CJK font were a third of the time.
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG", "DSIG")


@lru_cache(maxsize=32)
def _truetype_subset(family: str, chars: frozenset[str], postscript_name: str | None) -> bytes:
    """The subset as TrueType bytes.

    The CFF outlines are not subset: the fontTools subsetter would desubroutinize and
    strip hints of CFF charstrings that are converted and thrown away anyway. The font
    is subset with empty TrueType glyphs in their place, then only the glyphs kept are
    drawn from the original charstrings into TrueType outlines (the same outlines: the
    pen sees the same path either way). The timestamp is the font file's, not the time
    of rendering, so the same document gives the same PDF bytes.
    """
    font = TTFont(font_path(family), recalcTimestamp=False)
    outlines = font.getGlyphSet()  # the CFF charstrings: drawn after subsetting
    _empty_glyf(font)
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []  # no GSUB/GPOS: reportlab shapes nothing
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(ch) for ch in chars} | {0x20}))
    subsetter.subset(font)
    _draw_glyf(font, outlines)
    if postscript_name:
        for record in font["name"].names:
            if record.nameID in (4, 6):  # full name, PostScript name
                record.string = postscript_name
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _empty_glyf(font: TTFont) -> None:
    """Replace the font's CFF outlines with empty TrueType glyphs, in place."""
    order = font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {name: Glyph() for name in order}
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def _draw_glyf(font: TTFont, outlines: Mapping[str, Any]) -> None:
    """Draw each glyph of the (subset) font from ``outlines``, CFF glyphs, as TrueType
    outlines; then the tables that describe glyf fonts (maxp 1.0, post 2.0)."""
    order = font.getGlyphOrder()
    max_error = font["head"].unitsPerEm * _MAX_ERROR_EM
    glyf = font["glyf"]
    for name in order:
        # CID-keyed CJK CFF has no seac accents, so no glyph draws another as a component
        pen = TTGlyphPen(outlines)
        # CFF contours run counter-clockwise, TrueType ones clockwise
        outlines[name].draw(Cu2QuPen(pen, max_error, reverse_direction=True))
        glyf[name] = pen.glyph()
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    maxp.maxZones = 1
    for field in (
        "maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours",
        "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
        "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
        "maxComponentDepth",
    ):  # fmt: skip
        setattr(maxp, field, 0)
    font["maxp"] = maxp  # recalculated from glyf on save
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order


def reportlab_fonts(text: str) -> PdfFonts:
    """Register sans and serif subsets covering ``text`` with reportlab; their names.

    Names carry a hash of the character set, so documents with different text never
    share (and never overwrite) a registered subset. The subset's own PostScript name
    is the same: reportlab hands out an already registered font of the same face name
    instead of a new one, which would print the new characters as blanks.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

    chars = frozenset(text)
    key = hashlib.sha1("".join(sorted(chars)).encode("utf-8")).hexdigest()[:10]
    names = PdfFonts(sans=f"NotoSansSC-{key}", serif=f"NotoSerifSC-{key}")
    registered = set(pdfmetrics.getRegisteredFontNames())
    for family, name in ((SANS_FAMILY, names.sans), (SERIF_FAMILY, names.serif)):
        if name not in registered:
            data = _truetype_subset(family, chars, name)
            pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
    return names
