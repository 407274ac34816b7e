"""A scheme as a tree with points, for the terminal (``pingan scheme show``).

The people who agree a scheme read it as a table of 一级指标, 二级指标 and items with
their points; this is that table, generated from the file, so what they review is
what gets loaded. Points come first on each line: Chinese names are double-width
in a terminal and would break any column placed after them.
"""

from __future__ import annotations

from decimal import Decimal

from pingan_transforms.scheme.catalogue import Catalogue
from pingan_transforms.scheme.model import ADJUSTMENT_RULES, Bands, ItemBase, Scheme

_NORMALISATION = {
    "none": "",
    "per_10k_residents": "per 10k residents",
    "per_10k_residents_floating": "per 10k residents + floating",
}
_COMPARE = {
    "previous_month": "the previous month",
    "same_month_last_year": "the same month last year",
    "three_year_average": "the mean of the same month 1, 2 and 3 years back (those present)",
}


def n(value: Decimal | int | None) -> str:
    """A number as written in the file: 100, 0.25 (not 1E+2 or 0.250)."""
    if value is None:
        return "∞"
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def _ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def rule_summary(item: ItemBase) -> str:
    """One line saying how the item scores, in the README's terms."""
    p = item.parameters()
    rule = item.rule
    if rule == "deduct_per_unit":
        text = f"−{n(p['per_unit'])} per unit above {n(p['baseline'])}, at most −{n(p['cap'])}"
    elif rule == "add_per_unit":
        text = f"+{n(p['per_unit'])} per unit above {n(p['baseline'])}, at most +{n(p['cap'])}"
    elif rule == "target_ratio":
        text = f"full at ≥ {n(p['target'])}, 0 at ≤ {n(p['floor'])}, linear between"
    elif rule == "bands" and isinstance(item, Bands):
        text = "bands " + " · ".join(
            f"[{n(b.min)}, {n(b.max)}) → {n(b.points)}" for b in item.bands
        )
    elif rule == "change":
        text = (
            f"压降: −{n(p['per_unit'])} per 1% rise on {_COMPARE[p['compare_to']]}, "
            f"at most −{n(p['cap'])}"
        )
        if p["min_count"]:
            # min_count counts events in the raw base, before any normalisation
            text += f" (scored when the base has ≥ {n(p['min_count'])} events, not normalised)"
    elif rule == "peer_position":
        text = f"position among peers, {p['better']} is better"
    elif rule == "survey_scale":
        text = f"−{n(p['per_unit'])} per point below {n(p['threshold'])}, at most −{n(p['cap'])}"
    elif rule == "veto":
        effects = []
        if p["veto_points"] is not None:
            effects.append(f"−{n(p['veto_points'])} points")
        if p["veto_grade"] is not None:
            effects.append(f"grade at most {p['veto_grade']}")
        text = "一票否决 when > 0: " + ", ".join(effects)
    elif rule == "rank_movement":
        text = (
            f"±{n(p['per_unit'])} per place gained or lost since last month, within ±{n(p['cap'])}"
        )
    else:
        text = rule
    if item.if_no_data == "zero" and rule not in ADJUSTMENT_RULES:
        text += "; no data scores 0"
    return text


def render_scheme(scheme: Scheme, catalogue: Catalogue | None = None) -> str:
    """The header (levels, grades, stars, warnings) and the tree, one node per line."""
    lines = [
        f"{scheme.name}  ({scheme.scheme_code} v{scheme.version}, from {scheme.valid_from})",
        f"ranks {scheme.ranked_level} units within each {scheme.peer_level}, scope {scheme.scope}",
        f"{scheme.total_label}: {n(scheme.total_points)} points"
        + (f", total capped at {n(scheme.cap)}" if scheme.cap != scheme.total_points else ""),
        "grades: "
        + " · ".join(
            f"{g.grade} {n(g.min)}–{n(g.max)}"
            for g in sorted(scheme.grades, key=lambda g: g.min, reverse=True)
        ),
    ]
    if scheme.stars:
        if scheme.stars.method == "rank_share":
            levels = [
                f"{lv.stars}★ top {n((lv.top_share or 0) * 100)}%" for lv in scheme.stars.levels
            ]
        else:
            levels = [f"{lv.stars}★ ≥ {n(lv.min)}" for lv in scheme.stars.levels]
        lines.append(f"stars ({scheme.stars.method}): " + " · ".join(levels))
    if scheme.warnings:
        w = scheme.warnings
        text = f"warnings: red < {n(w.red_below)}, yellow < {n(w.yellow_below)}"
        if w.escalate_after:
            text += (
                f", escalated at the {_ordinal(w.escalate_after)} red month in a row"
                " (months as published)"
            )
        lines.append(text)
    if scheme.tie_break:
        lines.append("tie-break (category scores, in order): " + ", ".join(scheme.tie_break))
    counts = (
        len(scheme.categories),
        sum(1 for _ in scheme.indicators()),
        sum(1 for _ in scheme.items()),
    )
    lines.append("categories / indicators / items: " + " / ".join(map(str, counts)))
    lines.append("")
    width = max(len(n(node.points)) for node in _nodes(scheme))
    for category in scheme.categories:
        lines.append(f"{n(category.points):>{width}}  {category.name} {category.code}")
        for indicator in category.indicators:
            lines.append(f"{n(indicator.points):>{width}}    {indicator.name} {indicator.code}")
            for item in indicator.items:
                lines.append(
                    f"{n(item.points):>{width}}      {item.name} {item.code}: "
                    f"{_metric(item, catalogue)} · {rule_summary(item)}"
                )
    return "\n".join(lines)


def _nodes(scheme: Scheme):
    for category in scheme.categories:
        yield category
        for indicator in category.indicators:
            yield indicator
            yield from indicator.items


def _metric(item: ItemBase, catalogue: Catalogue | None) -> str:
    name = ""
    if catalogue is not None and item.metric in catalogue:
        name = f" {catalogue[item.metric].name}"
    norm = _NORMALISATION[item.normalisation]
    smoothed = (
        ", smoothed toward the peer group (empirical Bayes)" if item.smoothing != "none" else ""
    )
    return f"{item.metric}{name}" + (f" {norm}" if norm else "") + smoothed
