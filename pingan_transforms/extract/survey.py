"""The survey office's quarterly 群众安全感 spreadsheets, through the file-drop connector.

The survey office (统计/调查队, commissioned by the 政法委) drops one xlsx per county
and quarter (``<区县>群众安全感调查_<YYYY>年第<N>季度.xlsx``): a title row, one
header row, one row per township with its sample size, public sense-of-security
score (群众安全感, 0-100) and satisfaction score (满意度, 0-100), and a final
``全区`` row with the sample total and the sample-weighted average scores. The
``全区`` row is not loaded; it is checked like a ``合计`` row: 样本量 against the sum
of the rows, and each score against the 样本量-weighted mean of the rows that have
one (see :func:`pingan_transforms.extract.files.extract_file_drops`).

The data dictionary is in ``sources/survey/models/staging/_survey__sources.yml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pingan_transforms.extract.files import (
    FileBatchResult,
    FileSpec,
    extract_drops,
    extract_file_drops,
)
from pingan_transforms.warehouse import WarehouseTarget

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun

SURVEY_SCORES = FileSpec(
    entity="scores",
    raw_table="raw.survey__scores",
    name_patterns=("*群众安全感*",),
    columns={
        "统计季度": "tjjd",  # statistics quarter, e.g. 2024Q2
        "行政区划代码": "xzqhdm",  # township code (9 digits)
        "乡镇街道名称": "xzjdmc",  # township name
        "样本量": "ybl",  # respondents (sample size)
        "安全感得分": "aqgdf",  # sense-of-security score, 0-100
        "满意度得分": "mydf",  # satisfaction score, 0-100
    },
    total_columns=("ybl",),
    mean_columns=(("aqgdf", "ybl"), ("mydf", "ybl")),
    total_labels=("全区", "合计", "总计"),
    period_column="tjjd",
    period="quarter",
)
SURVEY_SPECS: tuple[FileSpec, ...] = (SURVEY_SCORES,)


def extract_survey_drops(drop_dir: Path, target: WarehouseTarget) -> list[FileBatchResult]:
    """Load the survey office's new quarterly xlsx exports from ``drop_dir`` into raw."""
    return extract_file_drops(drop_dir, target, source="survey", specs=SURVEY_SPECS)


def extract(run: ExtractRun) -> dict[str, object]:
    """The registry's entry point (``sources/survey``): every new workbook of the drop folder."""
    return extract_drops(run, SURVEY_SPECS)
