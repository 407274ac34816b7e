"""The fire department's connector (``sources/fire``): its xlsx and GBK CSV exports.

The files' layouts (:data:`~pingan_transforms.extract.files.FIRE_SPECS`) and the
parsing are the file-drop connector's; this module is the registry's entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pingan_transforms.extract.files import FIRE_SPECS, extract_drops

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun


def extract(run: ExtractRun) -> dict[str, object]:
    """Load every new fire export of the drop folder into raw."""
    return extract_drops(run, FIRE_SPECS)
