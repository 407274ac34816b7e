"""Read and check scheme files; every problem names the file, the path inside it and a fix.

A scheme is written by people who know the assessment rules, not pydantic, so no
raw validation dump ever reaches them: each problem is one line,
``FILE: categories[1].indicators[0].items[2].metric: problem — fix``. Checking
runs in two passes. The first is the shape of every node (:mod:`.model`: keys,
types, a rule's own parameters); only when the shape is right does the second run,
the checks that need the whole tree, the metric catalogue or the region master
(points adding up, bands covering the range, metrics existing and fine enough).
Both passes report every problem they find, so one run lists everything to fix.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pingan_transforms.scheme.catalogue import CATALOGUE_RELATIVE, Catalogue
from pingan_transforms.scheme.model import (
    ADJUSTMENT_RULES,
    CAPPED_RULES,
    ITEM_CLASSES,
    KNOWN_KEYS,
    RULE_PARAMETERS,
    RULES,
    Bands,
    ItemBase,
    Scheme,
    TargetRatio,
    Veto,
)
from pingan_transforms.scheme.regions import LEVELS, RegionMaster
from pingan_transforms.settings import ConfigError

README = "schemes/README.md"


@dataclass(frozen=True)
class Problem:
    file: str
    path: str  # e.g. categories[1].indicators[0].items[2].metric; "" = the whole file
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        return f"{where}{self.problem} — {self.fix}"


class SchemeError(ConfigError):
    """One or more scheme files are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class SchemeFile:
    """A valid scheme with the bytes it was read from (the loader records their checksum)."""

    path: Path
    data: bytes
    scheme: Scheme

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def load_scheme(path: Path, catalogue: Catalogue, regions: RegionMaster | None = None) -> Scheme:
    """Read and check one scheme file; raises :class:`SchemeError` listing every problem.

    ``regions``, when given, also checks the scope against the region master.
    """
    return read_scheme_file(Path(path), catalogue, regions).scheme


def read_scheme_file(
    path: Path, catalogue: Catalogue, regions: RegionMaster | None = None
) -> SchemeFile:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemeError(
            [Problem(file, "", f"cannot read the file ({exc.strerror})", "check the path")]
        ) from None
    return SchemeFile(path, data, parse_scheme(data, file, catalogue, regions))


def load_scheme_files(
    paths: Sequence[Path], catalogue: Catalogue, regions: RegionMaster | None = None
) -> list[SchemeFile]:
    """Check several files and that no two define the same scheme version.

    Unlike the CLI, which stops at the first bad file, this collects the problems of
    every file, so that a load failing in the pipeline says everything at once.
    """
    problems: list[Problem] = []
    loaded: list[SchemeFile] = []
    for path in paths:
        try:
            loaded.append(read_scheme_file(path, catalogue, regions))
        except SchemeError as exc:
            problems.extend(exc.problems)
    problems.extend(check_unique_versions([(str(f.path), f.scheme) for f in loaded]))
    if problems:
        raise SchemeError(problems)
    return loaded


def check_unique_versions(loaded: Sequence[tuple[str, Scheme]]) -> list[Problem]:
    """Two files with the same scheme_code and version would both claim the same rows."""
    first: dict[tuple[str, int], str] = {}
    problems = []
    for file, scheme in loaded:
        key = (scheme.scheme_code, scheme.version)
        if key in first:
            problems.append(
                Problem(
                    file,
                    "version",
                    f"{scheme.scheme_code} version {scheme.version} is also defined in "
                    f"{first[key]}",
                    "give this file the next unused version number (a changed scheme is a "
                    "new version), or remove one of the two files",
                )
            )
        else:
            first[key] = file
    return problems


def parse_scheme(
    data: bytes, file: str, catalogue: Catalogue, regions: RegionMaster | None = None
) -> Scheme:
    """Check the bytes of a scheme file named ``file`` (for messages only)."""
    raw = _parse_yaml(data, file)
    try:
        scheme = Scheme.model_validate(raw)
    except ValidationError as exc:
        raise SchemeError(_translate(file, err) for err in exc.errors()) from None
    problems = _Checks(file, scheme, catalogue, regions).run()
    if problems:
        raise SchemeError(problems)
    return scheme


# --- YAML --------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a scheme must not."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it
                duplicate = False
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(data: bytes, file: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemeError(
            [Problem(file, "", f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8")]
        ) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        if "appears twice" in (exc.problem or ""):
            raise SchemeError([Problem(file, where, what, "keep only one of them")]) from None
        raise SchemeError(
            [
                Problem(
                    file,
                    where,
                    f"not valid YAML: {what}",
                    "fix the syntax there (indentation, a missing colon, an unclosed quote)",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise SchemeError([Problem(file, "", f"not valid YAML: {exc}", "fix the syntax")]) from None
    if raw is None:
        raise SchemeError([Problem(file, "", "the file is empty", f"write a scheme ({README})")])
    if not isinstance(raw, dict):
        raise SchemeError(
            [
                Problem(
                    file,
                    "",
                    f"the file holds a {type(raw).__name__}, not a mapping of keys",
                    f"start with `scheme_code: ...` lines as in {README}",
                )
            ]
        )
    return raw


# --- pydantic errors ----------------------------------------------------------------------


def format_path(parts: Sequence[object]) -> str:
    """``('categories', 1, 'indicators', 0)`` → ``categories[1].indicators[0]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _did_you_mean(word: object, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]}?)" if matches else ""


_BOUNDS = {
    "greater_than": ("above", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("below", "lt"),
    "less_than_equal": ("at most", "le"),
}
_PATTERN_FIXES = {
    "scheme_code": "use lowercase letters, digits and _ only, e.g. majuqiao",
    "colour": 'write it as "#rrggbb", e.g. "#1a9850"',
    "scope": 'write the region code in digits, e.g. "110112"',
}


def _translate(file: str, err: dict[str, Any]) -> Problem:
    """One pydantic error as a Problem: the item's rule tag leaves the path, a fix joins."""
    loc = tuple(err["loc"])
    parts: list[object] = []
    rule: str | None = None
    for i, part in enumerate(loc):
        if (
            part in ITEM_CLASSES
            and i >= 2
            and isinstance(loc[i - 1], int)
            and loc[i - 2] == "items"
        ):
            rule = str(part)  # the discriminated union's tag, not a key of the file
            continue
        parts.append(part)
    key = parts[-1] if parts and isinstance(parts[-1], str) else None
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    path = format_path(parts)

    def problem(what: str, fix: str, at: str = path) -> Problem:
        return Problem(file, at, what, fix)

    if kind == "missing":
        if rule and key in RULE_PARAMETERS[rule]:
            return problem(f"rule {rule} needs {key}", f"add {key} (see the rules in {README})")
        return problem(f"missing key {key!r}", f"add {key}")
    if kind == "extra_forbidden":
        owners = [r for r, params in RULE_PARAMETERS.items() if key in params]
        if rule and owners:
            takes = ", ".join(RULE_PARAMETERS[rule]) or "no parameters"
            return problem(
                f"{key!r} is a parameter of {' / '.join(owners)}, not of rule {rule}",
                f"remove it ({rule} takes {takes})",
            )
        return problem(
            f"unknown key {key!r}",
            "remove it or correct its spelling" + _did_you_mean(key, KNOWN_KEYS),
        )
    if kind == "union_tag_invalid":
        return problem(
            f"unknown rule {ctx.get('tag')!r}",
            f"use one of {', '.join(RULES)}" + _did_you_mean(ctx.get("tag"), RULES),
            at=format_path([*parts, "rule"]),
        )
    if kind == "union_tag_not_found":
        return problem(
            "missing key 'rule'",
            f"add rule: one of {', '.join(RULES)}",
            at=format_path([*parts, "rule"]),
        )
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",")]
        level = key in ("ranked_level", "peer_level")
        what = f"{value!r} is not a {'region level' if level else 'value allowed here'}"
        return problem(what, f"use one of {expected}" + _did_you_mean(value, choices))
    if kind == "string_pattern_mismatch":
        fix = _PATTERN_FIXES.get(str(key), "use letters, digits and _ only, e.g. SHZA_XS_01")
        return problem(f"{value!r} is not a valid {key}", fix)
    if kind == "string_type":
        return problem(f"expected text, got {value!r}", "write text (quote it)")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return problem(f"expected a whole number, got {value!r}", "write a whole number, e.g. 1")
    if kind.startswith(("decimal_", "float_")) or kind == "finite_number":
        return problem(f"expected a number, got {value!r}", "write a number, e.g. 2.5")
    if kind in _BOUNDS:
        word, name = _BOUNDS[kind]
        return problem(
            f"{value} is out of range: {key} must be {word} {ctx.get(name)}",
            f"use a value {word} {ctx.get(name)}",
        )
    if kind == "too_short":
        return problem(f"{key} is empty", "list at least one")
    if kind == "string_too_short":
        return problem(f"{key} is empty", "write it")
    if kind == "list_type":
        return problem(f"expected a list, got {value!r}", "write a YAML list (lines starting '- ')")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return problem(f"expected a mapping of keys, got {value!r}", "write `key: value` lines")
    if kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
        what, _, fix = message.partition(" — ")
        return problem(what, fix or f"see {README}")
    return problem(str(err["msg"]), f"see {README}")


# --- whole-tree checks --------------------------------------------------------------------


def _n(value: Decimal | int | None) -> str:
    """A number as written: 100, not 1E+2 or 100.00."""
    if value is None:
        return "∞"
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def _terms(values: Iterable[Decimal]) -> str:
    """`` (30 + 20 + 20)`` when there is more than one term to show."""
    shown = [_n(v) for v in values]
    return f" ({' + '.join(shown)})" if len(shown) > 1 else ""


class _Checks:
    """Checks that need the whole tree, the catalogue or the region master."""

    def __init__(
        self, file: str, scheme: Scheme, catalogue: Catalogue, regions: RegionMaster | None
    ) -> None:
        self.file, self.scheme, self.catalogue, self.regions = file, scheme, catalogue, regions
        self.problems: list[Problem] = []

    def add(self, path: str, problem: str, fix: str) -> None:
        self.problems.append(Problem(self.file, path, problem, fix))

    def run(self) -> list[Problem]:
        self.codes()
        self.points()
        self.items()
        self.grades()
        self.stars()
        self.warnings()
        self.levels()
        self.tie_break()
        return self.problems

    def codes(self) -> None:
        seen: dict[str, str] = {}

        def visit(path: str, code: str) -> None:
            if code in seen:
                self.add(
                    f"{path}.code",
                    f"duplicate code {code!r} (also at {seen[code]})",
                    "give every category, indicator and item its own code",
                )
            else:
                seen[code] = f"{path}.code"

        for ci, category in enumerate(self.scheme.categories):
            visit(f"categories[{ci}]", category.code)
            for ii, indicator in enumerate(category.indicators):
                visit(f"categories[{ci}].indicators[{ii}]", indicator.code)
                for ti, item in enumerate(indicator.items):
                    visit(f"categories[{ci}].indicators[{ii}].items[{ti}]", item.code)

    def points(self) -> None:
        scheme = self.scheme
        total = sum((c.points for c in scheme.categories), Decimal(0))
        if total != scheme.total_points:
            self.add(
                "total_points",
                f"total_points is {_n(scheme.total_points)}, but the categories add up to "
                f"{_n(total)}{_terms(c.points for c in scheme.categories)}",
                "make the categories' points add up to total_points",
            )
        for ci, category in enumerate(scheme.categories):
            path = f"categories[{ci}]"
            summed = sum((i.points for i in category.indicators), Decimal(0))
            if summed != category.points:
                self.add(
                    f"{path}.points",
                    f"category {category.code} has {_n(category.points)} points, but its "
                    f"indicators add up to {_n(summed)}"
                    + _terms(i.points for i in category.indicators),
                    "make the indicators' points add up to the category's",
                )
            for ii, indicator in enumerate(category.indicators):
                ipath = f"{path}.indicators[{ii}]"
                budget = [i for i in indicator.items if i.rule not in ADJUSTMENT_RULES]
                summed = sum((i.points for i in budget), Decimal(0))
                if summed != indicator.points:
                    self.add(
                        f"{ipath}.points",
                        f"indicator {indicator.code} has {_n(indicator.points)} points, but "
                        f"its items add up to {_n(summed)}{_terms(i.points for i in budget)}",
                        "make the items' points add up to the indicator's",
                    )
                for ti, item in enumerate(indicator.items):
                    if item.rule in ADJUSTMENT_RULES and item.points != 0:
                        self.add(
                            f"{ipath}.items[{ti}].points",
                            f"a {item.rule} item adjusts the total outside the point budget, "
                            f"so its points must be 0, not {_n(item.points)}",
                            "set points: 0 (veto_points or cap say how far it moves the total)",
                        )

    def items(self) -> None:
        ranked = self.scheme.ranked_level
        for ci, category in enumerate(self.scheme.categories):
            for ii, indicator in enumerate(category.indicators):
                for ti, item in enumerate(indicator.items):
                    path = f"categories[{ci}].indicators[{ii}].items[{ti}]"
                    self.metric(path, item, ranked)
                    self.parameters(path, item)

    def metric(self, path: str, item: ItemBase, ranked: str) -> None:
        code = item.metric
        if code not in self.catalogue:
            close = self.catalogue.close_matches(code, n=1)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            self.add(
                f"{path}.metric",
                f"unknown metric {code!r}",
                f"use a code from {CATALOGUE_RELATIVE.as_posix()}{hint}",
            )
            return
        metric = self.catalogue[code]
        if item.normalisation != "none" and metric.kind != "count":
            self.add(
                f"{path}.normalisation",
                f"metric {code} is a {metric.kind} ({metric.unit}): only counts can be "
                f"normalised by population",
                "use normalisation: none (or omit it)",
            )
        if item.smoothing != "none":
            self.smoothing(path, item, metric)
        if metric.finest_level in LEVELS and LEVELS.index(metric.finest_level) < LEVELS.index(
            ranked
        ):
            self.add(
                f"{path}.metric",
                f"metric {code} exists only down to {metric.finest_level} level, but the scheme "
                f"ranks {ranked} units",
                f"use a metric available at {ranked} level (finest_level {ranked} in the "
                f"catalogue), or rank at {metric.finest_level} level",
            )

    def smoothing(self, path: str, item: ItemBase, metric) -> None:
        """Empirical-Bayes smoothing shrinks a rate of events per population toward the
        peer group's: it needs events (a count, not money) counted per population, and
        a rule that reads the rate."""
        where = f"{path}.smoothing"
        if metric.kind != "count" or metric.unit == "元":
            self.add(
                where,
                f"metric {item.metric} is a {metric.kind} ({metric.unit}): only counts of "
                "events can be smoothed",
                "remove smoothing from this item",
            )
        elif item.normalisation == "none":
            self.add(
                where,
                "smoothing shrinks a rate per 10,000 people; this item is not normalised",
                "add normalisation: per_10k_residents (or per_10k_residents_floating), or "
                "remove smoothing",
            )
        if item.rule in ("veto", "rank_movement", "survey_scale"):
            self.add(
                where,
                f"a {item.rule} item does not read a rate, so smoothing would change nothing",
                "remove smoothing from this item",
            )

    def parameters(self, path: str, item: ItemBase) -> None:
        cap = getattr(item, "cap", None)
        if item.rule in CAPPED_RULES and cap is not None and cap > item.points:
            self.add(
                f"{path}.cap",
                f"cap {_n(cap)} exceeds the item's {_n(item.points)} points",
                f"lower it to at most {_n(item.points)}, or omit it (it defaults to the points)",
            )
        if isinstance(item, TargetRatio) and item.target <= item.floor:
            self.add(
                f"{path}.target",
                f"target {_n(item.target)} is not above floor {_n(item.floor)}",
                "make target greater than floor (full points at the target, none at the floor)",
            )
        if isinstance(item, Bands):
            self.bands(path, item)
        if isinstance(item, Veto) and item.veto_grade is not None:
            grades = [g.grade for g in self.scheme.grades]
            if item.veto_grade not in grades:
                self.add(
                    f"{path}.veto_grade",
                    f"{item.veto_grade!r} is not one of the scheme's grades",
                    f"use one of {', '.join(grades)}" + _did_you_mean(item.veto_grade, grades),
                )

    def bands(self, path: str, item: Bands) -> None:
        for bi, band in enumerate(item.bands):
            if band.max is not None and band.max <= band.min:
                self.add(
                    f"{path}.bands[{bi}].max",
                    f"band [{_n(band.min)}, {_n(band.max)}) is empty",
                    "make max greater than min",
                )
            if band.points > item.points:
                self.add(
                    f"{path}.bands[{bi}].points",
                    f"band points {_n(band.points)} exceed the item's {_n(item.points)} points",
                    f"give the band at most {_n(item.points)} points",
                )
        ordered = sorted(enumerate(item.bands), key=lambda pair: pair[1].min)
        for (_, low), (bi, high) in zip(ordered, ordered[1:], strict=False):
            if low.max is None or low.max > high.min:
                self.add(
                    f"{path}.bands[{bi}]",
                    f"band [{_n(high.min)}, {_n(high.max)}) overlaps band "
                    f"[{_n(low.min)}, {_n(low.max)})",
                    "make the bands disjoint: each band's min at or above the previous band's "
                    "max (max is exclusive; only the highest band may omit it)",
                )

    def grades(self) -> None:
        scheme, cap = self.scheme, self.scheme.cap
        names: dict[str, int] = {}
        for gi, grade in enumerate(scheme.grades):
            if grade.grade in names:
                self.add(
                    f"grades[{gi}].grade",
                    f"grade {grade.grade!r} is listed twice (also grades[{names[grade.grade]}])",
                    "give every grade its own name",
                )
            names.setdefault(grade.grade, gi)
            if grade.max <= grade.min:
                self.add(
                    f"grades[{gi}]",
                    f"grade {grade.grade} [{_n(grade.min)}, {_n(grade.max)}) is empty",
                    "make max greater than min",
                )
        bands = sorted(
            ((gi, g) for gi, g in enumerate(scheme.grades) if g.max > g.min),
            key=lambda pair: (pair[1].min, pair[1].max),
        )
        if not bands:
            return
        first_i, first = bands[0]
        if first.min != 0:
            self.add(
                f"grades[{first_i}].min",
                f"the lowest grade {first.grade} starts at {_n(first.min)}, so totals below it "
                "have no grade",
                "set its min to 0",
            )
        last_i, last = bands[-1]
        if last.max != cap:
            self.add(
                f"grades[{last_i}].max",
                f"the highest grade {last.grade} ends at {_n(last.max)}, but totals range up to "
                f"{_n(cap)} (total_cap)",
                f"set its max to {_n(cap)}",
            )
        for (_, low), (gi, high) in zip(bands, bands[1:], strict=False):
            if low.max > high.min:
                self.add(
                    f"grades[{gi}].min",
                    f"grade {high.grade} [{_n(high.min)}, {_n(high.max)}) overlaps grade "
                    f"{low.grade} [{_n(low.min)}, {_n(low.max)})",
                    f"make {low.grade}'s max equal {high.grade}'s min",
                )
            elif low.max < high.min:
                self.add(
                    f"grades[{gi}].min",
                    f"no grade covers totals in [{_n(low.max)}, {_n(high.min)}) between "
                    f"{low.grade} and {high.grade}",
                    f"make {low.grade}'s max equal {high.grade}'s min",
                )

    def stars(self) -> None:
        stars = self.scheme.stars
        if stars is None:
            return
        wanted, foreign = ("top_share", "min") if stars.method == "rank_share" else (
            "min", "top_share"
        )  # fmt: skip
        example = "top_share: 0.2" if wanted == "top_share" else "min: 95"
        for li, level in enumerate(stars.levels):
            path = f"stars.levels[{li}]"
            if getattr(level, wanted) is None:
                self.add(path, f"a {stars.method} level needs {wanted}", f"add {example}")
            if getattr(level, foreign) is not None:
                self.add(
                    f"{path}.{foreign}",
                    f"{foreign} does not belong to method {stars.method}",
                    f"remove it ({stars.method} levels take stars and {wanted})",
                )
        levels = stars.levels
        for li in range(1, len(levels)):
            if levels[li].stars >= levels[li - 1].stars:
                self.add(
                    f"stars.levels[{li}].stars",
                    f"star levels out of order: {levels[li].stars} stars listed after "
                    f"{levels[li - 1].stars}",
                    "list the levels best first, each with fewer stars than the one before",
                )
        if stars.method == "rank_share":
            self.rank_shares()
        else:
            self.score_bands()

    def rank_shares(self) -> None:
        levels = self.scheme.stars.levels if self.scheme.stars else []
        shares = [(li, lv.top_share) for li, lv in enumerate(levels) if lv.top_share is not None]
        for (_, low), (li, high) in zip(shares, shares[1:], strict=False):
            if high <= low:
                self.add(
                    f"stars.levels[{li}].top_share",
                    f"star levels out of order: top_share {_n(high)} is not above the previous "
                    f"level's {_n(low)}",
                    "make top_share grow level by level (cumulative shares of the peer group, "
                    "best first)",
                )
        last = levels[-1].top_share if levels else None
        if last is not None and last != 1:
            self.add(
                f"stars.levels[{len(levels) - 1}].top_share",
                f"the last level's top_share is {_n(last)}, so units ranked below that share "
                "get no stars",
                "set the last level's top_share to 1.0",
            )

    def score_bands(self) -> None:
        levels = self.scheme.stars.levels if self.scheme.stars else []
        mins = [(li, lv.min) for li, lv in enumerate(levels) if lv.min is not None]
        for (_, high), (li, low) in zip(mins, mins[1:], strict=False):
            if low >= high:
                self.add(
                    f"stars.levels[{li}].min",
                    f"star levels out of order: min {_n(low)} is not below the previous "
                    f"level's {_n(high)}",
                    "make min fall level by level (best first)",
                )
        for li, value in mins:
            if value > self.scheme.cap:
                self.add(
                    f"stars.levels[{li}].min",
                    f"min {_n(value)} is above total_cap {_n(self.scheme.cap)}: no total "
                    "reaches it",
                    f"use a min of at most {_n(self.scheme.cap)}",
                )
        last = levels[-1].min if levels else None
        if last is not None and last != 0:
            self.add(
                f"stars.levels[{len(levels) - 1}].min",
                f"the lowest level's min is {_n(last)}, so totals below it get no stars",
                "set the lowest level's min to 0",
            )

    def warnings(self) -> None:
        warnings, cap = self.scheme.warnings, self.scheme.cap
        if warnings is None:
            return
        if warnings.yellow_below <= warnings.red_below:
            self.add(
                "warnings.yellow_below",
                f"warning thresholds out of order: yellow_below {_n(warnings.yellow_below)} is "
                f"not above red_below {_n(warnings.red_below)}",
                "make yellow_below greater than red_below (red below it, yellow between)",
            )
        for key in ("red_below", "yellow_below"):
            value = getattr(warnings, key)
            if not 0 < value <= cap:
                self.add(
                    f"warnings.{key}",
                    f"{key} {_n(value)} is outside (0, {_n(cap)}], the range of totals",
                    f"use a threshold between 0 and {_n(cap)}",
                )

    def levels(self) -> None:
        scheme = self.scheme
        ranked, peer = LEVELS.index(scheme.ranked_level), LEVELS.index(scheme.peer_level)
        if peer >= ranked:
            self.add(
                "peer_level",
                f"peer level {scheme.peer_level} is not above the ranked level "
                f"{scheme.ranked_level}",
                f"use a level above {scheme.ranked_level}: {', '.join(LEVELS[:ranked])}",
            )
        if self.regions is None:
            return
        region = self.regions.regions.get(scheme.scope)
        if region is None:
            self.add(
                "scope",
                f"scope {scheme.scope!r} is not in the region master ({self.regions.described})",
                "use a region code from it, or point --regions / PINGAN_REGIONS_FILE at the "
                "master that holds it",
            )
            return
        if region.level in LEVELS and LEVELS.index(region.level) > peer:
            ancestor = self._ancestor_at(region.code, scheme.peer_level)
            hint = f", e.g. {ancestor.code} ({ancestor.name})" if ancestor else ""
            self.add(
                "scope",
                f"scope {scheme.scope} ({region.name}) is a {region.level}, below the peer "
                f"level {scheme.peer_level}",
                f"use a scope at or above {scheme.peer_level} level{hint}, or a lower peer_level",
            )

    def _ancestor_at(self, code: str, level: str):
        regions = self.regions.regions if self.regions else {}
        seen: set[str] = set()
        region = regions.get(code)
        while region is not None and region.code not in seen:
            if region.level == level:
                return region
            seen.add(region.code)
            region = regions.get(region.parent_code)
        return None

    def tie_break(self) -> None:
        categories = [c.code for c in self.scheme.categories]
        seen: set[str] = set()
        for ti, code in enumerate(self.scheme.tie_break):
            if code not in categories:
                self.add(
                    f"tie_break[{ti}]",
                    f"{code!r} is not a category code",
                    f"use category codes: {', '.join(categories)}"
                    + _did_you_mean(code, categories),
                )
            elif code in seen:
                self.add(f"tie_break[{ti}]", f"{code!r} is listed twice", "list it once")
            seen.add(code)
