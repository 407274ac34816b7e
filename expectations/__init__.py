"""Great Expectations suites as code: one builder per table (DESIGN.md §8).

Each builder takes a :class:`QualityScope` (the month being published) and returns a
``gx.ExpectationSuite`` named after its table. :data:`SUITES` lists them in the order
the checkpoint runs them: the region master's, every registered source's (its
``sources/<name>/expectations.py``, beside its raw tables and models), then the
marts'. ``pingan_transforms.quality`` decides which data each one validates (the
month's raw batches, one by one; the marts' rows of the month) and runs them as one
checkpoint. See README.md in this folder.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pingan_transforms.settings import get_settings

from . import marts_index, marts_reports, raw_regions
from ._common import ROW_REF, EventTime, MartTable, QualityScope, RawTable, SuiteSpec


def _source_module(path: Path) -> ModuleType:
    """A source's ``expectations.py``, imported as ``expectations.sources.<name>``."""
    name = f"{__name__}.sources.{path.parent.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SOURCE_MODULES: tuple[ModuleType, ...] = tuple(
    _source_module(path) for path in sorted(get_settings().registry_dir.glob("*/expectations.py"))
)

SUITES: tuple[SuiteSpec, ...] = (
    *raw_regions.SUITES,
    *(suite for module in SOURCE_MODULES for suite in module.SUITES),
    *marts_index.SUITES,
    *marts_reports.SUITES,
)

__all__ = [
    "ROW_REF",
    "SUITES",
    "EventTime",
    "MartTable",
    "QualityScope",
    "RawTable",
    "SuiteSpec",
]
