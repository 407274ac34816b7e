"""Pydantic models of a scheme file: exactly the keys of ``schemes/README.md``.

Every model forbids extra keys, so a misspelt key is an error rather than a silently
ignored setting. Each rule is its own item class, discriminated by ``rule``: an item
can then carry only its rule's parameters, and a parameter of another rule is an
error too. These models check the shape of one node at a time; checks that need
the whole tree or the metric catalogue (points adding up, bands covering the
range, metrics existing) live in :mod:`pingan_transforms.scheme.validate`, which
reports them all at once instead of stopping at the first.

Numbers are ``Decimal`` so that points add up exactly (0.1 + 0.2 is 0.3) and reach
PostgreSQL's ``numeric`` columns unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

RULES: tuple[str, ...] = (
    "deduct_per_unit",
    "add_per_unit",
    "target_ratio",
    "bands",
    "change",
    "peer_position",
    "survey_scale",
    "veto",
    "rank_movement",
)
# Outside the point budget: their items have points 0 and signed scores.
ADJUSTMENT_RULES = frozenset({"veto", "rank_movement"})
# In-tree rules whose `cap` defaults to the item's points and may not exceed them.
CAPPED_RULES = frozenset({"deduct_per_unit", "add_per_unit", "change", "survey_scale"})

RegionLevel = Literal["province", "city", "county", "township", "village"]
RankedLevel = Literal["county", "township", "village"]
Normalisation = Literal["none", "per_10k_residents", "per_10k_residents_floating"]
IfNoData = Literal["full", "zero"]
# empirical_bayes: the rate per 10,000 shrunk toward the peer group's (schemes/README.md)
Smoothing = Literal["none", "empirical_bayes"]
CompareTo = Literal["previous_month", "same_month_last_year", "three_year_average"]


def _month_text(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        return value
    if isinstance(value, date):  # YAML reads 2024-01-01 as a date
        raise ValueError(f"{value} is a day, not a month — write it as YYYY-MM, e.g. 2024-01")
    raise ValueError(f"{value!r} is not a month — write it as YYYY-MM, e.g. 2024-01")


def _code_text(value: object) -> object:
    # An unquoted region code is a YAML integer; codes never start with 0, so it is safe.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]
Name = Annotated[str, Field(min_length=1)]
Number = Annotated[Decimal, Field(allow_inf_nan=False)]
Points = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
PerUnit = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
MonthText = Annotated[str, BeforeValidator(_month_text)]
RegionCode = Annotated[str, BeforeValidator(_code_text), Field(pattern=r"^[0-9]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemBase(_Strict):
    """What every item has, whatever its rule."""

    code: Code
    name: Name
    points: Points
    metric: Name
    normalisation: Normalisation = "none"
    smoothing: Smoothing = "none"
    if_no_data: IfNoData = "full"

    rule: str

    def parameters(self) -> dict[str, Any]:
        """The rule's typed parameters with their defaults applied (the items table's columns)."""
        return {}

    def _capped(self, cap: Decimal | None) -> Decimal:
        return self.points if cap is None else cap


class DeductPerUnit(ItemBase):
    """扣分: P − min(cap, max(0, v − baseline) × per_unit)."""

    rule: Literal["deduct_per_unit"]
    per_unit: PerUnit
    baseline: Number = Decimal(0)
    cap: Points | None = None

    def parameters(self) -> dict[str, Any]:
        return {"per_unit": self.per_unit, "baseline": self.baseline, "cap": self._capped(self.cap)}


class AddPerUnit(ItemBase):
    """加分: min(cap, max(0, v − baseline) × per_unit)."""

    rule: Literal["add_per_unit"]
    per_unit: PerUnit
    baseline: Number = Decimal(0)
    cap: Points | None = None

    def parameters(self) -> dict[str, Any]:
        return {"per_unit": self.per_unit, "baseline": self.baseline, "cap": self._capped(self.cap)}


class TargetRatio(ItemBase):
    """P at v ≥ target, 0 at v ≤ floor, linear between."""

    rule: Literal["target_ratio"]
    target: Number
    floor: Number

    def parameters(self) -> dict[str, Any]:
        return {"target": self.target, "floor": self.floor}


class Band(_Strict):
    min: Number
    max: Number | None = None  # exclusive; omitted = open above
    points: Points


class Bands(ItemBase):
    """The points of the band holding v; 0 outside every band."""

    rule: Literal["bands"]
    bands: list[Band] = Field(min_length=1)


class Change(ItemBase):
    """压降: P − min(cap, max(0, change %) × per_unit) against ``compare_to``."""

    rule: Literal["change"]
    compare_to: CompareTo
    per_unit: PerUnit
    cap: Points | None = None
    # events in the raw base (before normalisation) below which the item is not scored
    min_count: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)

    def parameters(self) -> dict[str, Any]:
        return {
            "compare_to": self.compare_to,
            "per_unit": self.per_unit,
            "cap": self._capped(self.cap),
            "min_count": self.min_count,
        }


class PeerPosition(ItemBase):
    """P × (n − position) / (n − 1) among the peer group's units with a value."""

    rule: Literal["peer_position"]
    better: Literal["higher", "lower"]

    def parameters(self) -> dict[str, Any]:
        return {"better": self.better}


class SurveyScale(ItemBase):
    """P − min(cap, max(0, threshold − v) × per_unit)."""

    rule: Literal["survey_scale"]
    threshold: Number
    per_unit: PerUnit
    cap: Points | None = None

    def parameters(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "per_unit": self.per_unit,
            "cap": self._capped(self.cap),
        }


class Veto(ItemBase):
    """一票否决: when v > 0, −veto_points and the grade at most veto_grade."""

    rule: Literal["veto"]
    veto_points: Points | None = None
    veto_grade: Name | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> Veto:
        if self.veto_points is None and self.veto_grade is None:
            raise ValueError(
                "rule veto needs veto_points, veto_grade or both — add what a veto costs"
            )
        return self

    def parameters(self) -> dict[str, Any]:
        return {"veto_points": self.veto_points, "veto_grade": self.veto_grade}


class RankMovement(ItemBase):
    """Places gained on the tree-score rank since last month × per_unit, within ±cap."""

    rule: Literal["rank_movement"]
    per_unit: PerUnit
    cap: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]

    def parameters(self) -> dict[str, Any]:
        return {"per_unit": self.per_unit, "cap": self.cap}


Item = Annotated[
    DeductPerUnit
    | AddPerUnit
    | TargetRatio
    | Bands
    | Change
    | PeerPosition
    | SurveyScale
    | Veto
    | RankMovement,
    Field(discriminator="rule"),
]
ITEM_CLASSES: dict[str, type[ItemBase]] = {
    "deduct_per_unit": DeductPerUnit,
    "add_per_unit": AddPerUnit,
    "target_ratio": TargetRatio,
    "bands": Bands,
    "change": Change,
    "peer_position": PeerPosition,
    "survey_scale": SurveyScale,
    "veto": Veto,
    "rank_movement": RankMovement,
}
# Each rule's own parameters, in the order the README lists them.
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    rule: tuple(name for name in cls.model_fields if name not in ItemBase.model_fields)
    for rule, cls in ITEM_CLASSES.items()
}


class Indicator(_Strict):
    """二级指标."""

    code: Code
    name: Name
    points: Points
    items: list[Item] = Field(min_length=1)


class Category(_Strict):
    """一级指标."""

    code: Code
    name: Name
    points: Points
    indicators: list[Indicator] = Field(min_length=1)


class Grade(_Strict):
    grade: Name
    min: Number  # inclusive
    max: Number  # exclusive, except the top band's
    colour: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class StarLevel(_Strict):
    stars: Annotated[int, Field(ge=1)]
    top_share: Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    min: Number | None = None


class Stars(_Strict):
    method: Literal["rank_share", "score_bands"]
    levels: list[StarLevel] = Field(min_length=1)


class Warnings(_Strict):
    red_below: Number
    yellow_below: Number
    escalate_after: Annotated[int, Field(ge=1)] | None = None


class Scheme(_Strict):
    scheme_code: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    version: Annotated[int, Field(ge=1)]
    valid_from: MonthText
    name: Name
    total_label: Name
    ranked_level: RankedLevel
    peer_level: RegionLevel
    scope: RegionCode
    total_points: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    total_cap: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    tie_break: list[Code] = []  # any number of category codes, each deciding in turn
    grades: list[Grade] = Field(min_length=1)
    stars: Stars | None = None
    warnings: Warnings | None = None
    categories: list[Category] = Field(min_length=1)

    @property
    def cap(self) -> Decimal:
        """The total's ceiling: ``total_cap``, by default ``total_points``."""
        return self.total_points if self.total_cap is None else self.total_cap

    @property
    def valid_from_date(self) -> date:
        year, month = self.valid_from.split("-")
        return date(int(year), int(month), 1)

    def indicators(self) -> Iterator[tuple[Category, Indicator]]:
        for category in self.categories:
            for indicator in category.indicators:
                yield category, indicator

    def items(self) -> Iterator[tuple[Category, Indicator, ItemBase]]:
        for category, indicator in self.indicators():
            for item in indicator.items:
                yield category, indicator, item


# Every key the format knows, for "did you mean" on an unknown key.
KNOWN_KEYS: frozenset[str] = frozenset(
    name
    for model in (
        Scheme,
        Category,
        Indicator,
        Grade,
        StarLevel,
        Stars,
        Warnings,
        Band,
        *ITEM_CLASSES.values(),
    )
    for name in model.model_fields
)
