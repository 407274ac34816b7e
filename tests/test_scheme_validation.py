"""Scheme files: every validation class names the file, the path inside it and a fix.

Each test breaks one thing in a small valid scheme (the ``scheme`` fixture), writes
it as YAML and checks the one-line problem ``FILE: path: problem — fix``. The
shipped schemes must validate against the metric catalogue and the region files.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from pingan_transforms.cli import main
from pingan_transforms.scheme import (
    SchemeError,
    load_catalogue,
    load_scheme,
    load_scheme_files,
    read_regions,
)
from pingan_transforms.scheme.show import render_scheme

PROJECT = Path(__file__).resolve().parent.parent
SCHEMES = PROJECT / "schemes"
DIVISIONS = sorted((PROJECT / "data" / "regions").glob("*.csv"))
ITEM = "categories[0].indicators[0].items[0]"
CATALOGUE = load_catalogue(PROJECT / "dbt_project" / "seeds" / "metric_catalogue.csv")


def _item(code: str, points: float, **rule: object) -> dict:
    return {"code": code, "name": f"项目{code}", "points": points, **rule}


@pytest.fixture
def scheme() -> dict:
    """A small valid township scheme: 2 categories, 3 indicators, 6 items, 100 points."""
    return {
        "scheme_code": "mini",
        "version": 1,
        "valid_from": "2024-01",
        "name": "测试指数",
        "total_label": "平安指数",
        "ranked_level": "township",
        "peer_level": "county",
        "scope": "110112",
        "total_points": 100,
        "tie_break": ["ZA"],
        "grades": [
            {"grade": "优秀", "min": 90, "max": 100, "colour": "#1a9850"},
            {"grade": "良好", "min": 80, "max": 90, "colour": "#91cf60"},
            {"grade": "较差", "min": 0, "max": 80, "colour": "#d73027"},
        ],
        "stars": {
            "method": "rank_share",
            "levels": [
                {"stars": 3, "top_share": 0.3},
                {"stars": 2, "top_share": 0.7},
                {"stars": 1, "top_share": 1.0},
            ],
        },
        "warnings": {"red_below": 80, "yellow_below": 90, "escalate_after": 3},
        "categories": [
            {
                "code": "ZA",
                "name": "社会治安",
                "points": 60,
                "indicators": [
                    {
                        "code": "ZA_1",
                        "name": "刑事治安",
                        "points": 40,
                        "items": [
                            _item("ZA_1_1", 30, metric="police_incidents_criminal",
                                  normalisation="per_10k_residents_floating",
                                  rule="deduct_per_unit", baseline=0.8, per_unit=4),
                            _item("ZA_1_2", 10, metric="dispute_resolution_rate",
                                  rule="target_ratio", target=90, floor=60),
                            _item("ZA_1_3", 0, metric="fire_deaths", rule="veto",
                                  veto_points=5, veto_grade="良好"),
                        ],
                    },
                    {
                        "code": "ZA_2",
                        "name": "信访",
                        "points": 20,
                        "items": [
                            _item("ZA_2_1", 20, metric="petitions_received", rule="bands",
                                  bands=[{"min": 0, "max": 1, "points": 20},
                                         {"min": 1, "max": 3, "points": 10},
                                         {"min": 3, "points": 0}]),
                        ],
                    },
                ],
            },
            {
                "code": "JT",
                "name": "交通秩序",
                "points": 40,
                "indicators": [
                    {
                        "code": "JT_1",
                        "name": "交通事故",
                        "points": 40,
                        "items": [
                            _item("JT_1_1", 40, metric="traffic_accidents", rule="change",
                                  compare_to="previous_month", per_unit=0.1, min_count=5),
                            _item("JT_1_2", 0, metric="police_incidents_total",
                                  rule="rank_movement", per_unit=0.5, cap=2),
                        ],
                    },
                ],
            },
        ],
    }  # fmt: skip


def write(tmp_path: Path, data: object, name: str = "scheme.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, regions=None) -> list[str]:
    with pytest.raises(SchemeError) as info:
        load_scheme(path, CATALOGUE, regions)
    lines = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(lines)
    return lines


def the_problem(lines: list[str], path: Path, where: str, *words: str) -> str:
    """The one line for ``where`` in ``path``; it names a fix after ' — ' and holds ``words``."""
    prefix = f"{path}: {where}: " if where else f"{path}: "
    matching = [line for line in lines if line.startswith(prefix)]
    assert matching, f"no problem at {where!r} in:\n" + "\n".join(lines)
    line = matching[0]
    problem, dash, fix = line[len(prefix) :].partition(" — ")
    assert dash and problem and fix, f"no fix in {line!r}"
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    return line


def test_the_fixture_is_valid(tmp_path, scheme) -> None:
    loaded = load_scheme(write(tmp_path, scheme), CATALOGUE, read_regions(DIVISIONS))
    assert loaded.scheme_code == "mini" and sum(1 for _ in loaded.items()) == 6


# --- YAML and keys ------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(tmp_path) -> None:
    path = write(tmp_path, "scheme_code: mini\nversion: 1\n  name: [unclosed\n")
    line = the_problem(problems_of(path), path, "line 3, column 7", "not valid YAML")
    assert "fix the syntax" in line


def test_duplicate_yaml_key_is_an_error(tmp_path, scheme) -> None:
    text = yaml.safe_dump(scheme, allow_unicode=True) + "version: 2\n"
    path = write(tmp_path, text)
    lines = problems_of(path)
    the_problem(lines, path, lines[0].split(": ")[1], "'version' appears twice", "keep only one")


def test_unknown_key_suggests_the_known_one(tmp_path, scheme) -> None:
    scheme["total_point"] = scheme.pop("total_points")
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(lines, path, "total_point", "unknown key 'total_point'", "total_points?")
    the_problem(lines, path, "total_points", "missing key 'total_points'", "add total_points")


def test_missing_key_in_the_tree(tmp_path, scheme) -> None:
    del scheme["categories"][1]["indicators"][0]["name"]
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, "categories[1].indicators[0].name", "missing key 'name'")


def test_valid_from_must_be_a_month(tmp_path, scheme) -> None:
    scheme["valid_from"] = "2024-1"
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, "valid_from", "'2024-1' is not a month", "YYYY-MM")


def test_type_errors_are_translated(tmp_path, scheme) -> None:
    scheme["version"] = "one"
    scheme["grades"][0]["colour"] = "green"
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(lines, path, "version", "expected a whole number", "write a whole number")
    the_problem(lines, path, "grades[0].colour", "'green' is not a valid colour", "#rrggbb")
    messages = [line.removeprefix(f"{path}: ") for line in lines]
    assert not any("pydantic" in m or "Input should" in m for m in messages), messages


# --- metrics and rules --------------------------------------------------------------------


def test_unknown_metric_suggests_the_closest(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["metric"] = "police_incidents_crime"
    path = write(tmp_path, scheme)
    line = the_problem(problems_of(path), path, f"{ITEM}.metric", "unknown metric")
    assert line.endswith(
        "— use a code from dbt_project/seeds/metric_catalogue.csv "
        "(did you mean police_incidents_criminal?)"
    )


def test_missing_rule_parameter(tmp_path, scheme) -> None:
    del scheme["categories"][0]["indicators"][0]["items"][0]["per_unit"]
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, f"{ITEM}.per_unit",
        "rule deduct_per_unit needs per_unit", "add per_unit",
    )  # fmt: skip


def test_foreign_rule_parameter(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["target"] = 90
    path = write(tmp_path, scheme)
    line = the_problem(
        problems_of(path), path, f"{ITEM}.target",
        "'target' is a parameter of target_ratio, not of rule deduct_per_unit", "remove it",
    )  # fmt: skip
    assert "deduct_per_unit takes per_unit, baseline, cap" in line


def test_unknown_rule(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["rule"] = "deduct"
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, f"{ITEM}.rule", "unknown rule 'deduct'", "deduct_per_unit")


def test_veto_needs_something_to_do(tmp_path, scheme) -> None:
    veto = scheme["categories"][0]["indicators"][0]["items"][2]
    del veto["veto_points"], veto["veto_grade"]
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[0].indicators[0].items[2]",
        "rule veto needs veto_points, veto_grade or both",
    )  # fmt: skip


def test_veto_grade_must_be_a_grade(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][2]["veto_grade"] = "良"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[0].indicators[0].items[2].veto_grade",
        "'良' is not one of the scheme's grades", "优秀, 良好, 较差",
    )  # fmt: skip


def test_normalising_a_rate(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][1]["normalisation"] = "per_10k_residents"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[0].indicators[0].items[1].normalisation",
        "dispute_resolution_rate is a rate", "normalisation: none",
    )  # fmt: skip


def test_smoothing_only_for_rates_of_events_per_population(tmp_path, scheme) -> None:
    """Issue 15: empirical-Bayes smoothing shrinks a rate of events per 10,000 people."""
    items = scheme["categories"][0]["indicators"][0]["items"]
    items[1]["smoothing"] = "empirical_bayes"  # a rate
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[0].indicators[0].items[1].smoothing",
        "dispute_resolution_rate is a rate", "remove smoothing",
    )  # fmt: skip
    del items[1]["smoothing"]
    items[0].update(smoothing="empirical_bayes", normalisation="none")  # a count, not per capita
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, f"{ITEM}.smoothing",
        "this item is not normalised", "add normalisation: per_10k_residents",
    )  # fmt: skip
    items[0]["normalisation"] = "per_10k_residents"
    assert load_scheme(write(tmp_path, scheme), CATALOGUE).items()


def test_metric_coarser_than_the_ranked_level(tmp_path, scheme) -> None:
    scheme.update(ranked_level="village", peer_level="township", scope="442000118")
    scheme["categories"][0]["indicators"][0]["items"][0]["metric"] = "fire_units_inspected"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, f"{ITEM}.metric",
        "fire_units_inspected exists only down to township level", "ranks village units",
    )  # fmt: skip


def test_target_must_be_above_floor(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][1].update(target=60, floor=60)
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[0].indicators[0].items[1].target",
        "target 60 is not above floor 60", "make target greater than floor",
    )  # fmt: skip


def test_cap_above_the_item_points(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["cap"] = 31
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, f"{ITEM}.cap", "cap 31 exceeds the item's 30 points",
        "at most 30",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("bands", "where", "words"),
    [
        ([], "bands", ("bands is empty", "list at least one")),
        ([{"min": 0, "max": 2, "points": 20}, {"min": 1, "points": 10}], "bands[1]",
         ("band [1, ∞) overlaps band [0, 2)", "disjoint")),
        ([{"min": 0, "points": 20}, {"min": 3, "points": 0}], "bands[1]",
         ("overlaps band [0, ∞)",)),
        ([{"min": 0, "max": 1, "points": 25}], "bands[0].points",
         ("band points 25 exceed the item's 20 points",)),
        ([{"min": 2, "max": 1, "points": 5}], "bands[0].max", ("band [2, 1) is empty",)),
    ],
)  # fmt: skip
def test_band_parameters(tmp_path, scheme, bands, where, words) -> None:
    scheme["categories"][0]["indicators"][1]["items"][0]["bands"] = bands
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, f"categories[0].indicators[1].items[0].{where}", *words)


# --- points and codes ---------------------------------------------------------------------


def test_items_must_add_up_to_the_indicator(tmp_path, scheme) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["points"] = 25
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(
        lines, path, "categories[0].indicators[0].points",
        "indicator ZA_1 has 40 points, but its items add up to 35 (25 + 10)",
        "make the items' points add up",
    )  # fmt: skip


def test_indicators_must_add_up_to_the_category(tmp_path, scheme) -> None:
    scheme["categories"][1]["points"] = 45
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(lines, path, "categories[1].points", "category JT has 45 points", "add up to 40")
    the_problem(lines, path, "total_points", "the categories add up to 105 (60 + 45)")


def test_categories_must_add_up_to_total_points(tmp_path, scheme) -> None:
    scheme["total_points"] = 90
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "total_points",
        "total_points is 90, but the categories add up to 100", "add up to total_points",
    )  # fmt: skip


@pytest.mark.parametrize(("category", "index", "rule"), [(0, 2, "veto"), (1, 1, "rank_movement")])
def test_adjustment_items_have_no_points(tmp_path, scheme, category, index, rule) -> None:
    scheme["categories"][category]["indicators"][0]["items"][index]["points"] = 2
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, f"categories[{category}].indicators[0].items[{index}].points",
        f"a {rule} item adjusts the total outside the point budget", "set points: 0",
    )  # fmt: skip


def test_duplicate_codes(tmp_path, scheme) -> None:
    scheme["categories"][1]["indicators"][0]["items"][0]["code"] = "ZA_1_1"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "categories[1].indicators[0].items[0].code",
        "duplicate code 'ZA_1_1' (also at categories[0].indicators[0].items[0].code)",
        "its own code",
    )  # fmt: skip


def test_tie_break_codes_must_be_categories(tmp_path, scheme) -> None:
    scheme["tie_break"] = ["ZA", "ZA_1"]
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, "tie_break[1]", "'ZA_1' is not a category code", "ZA, JT")


# --- grades, stars, warnings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({1: {"max": 92}}, "grades[0].min", ("grade 优秀 [90, 100) overlaps grade 良好 [80, 92)",
                                             "make 良好's max equal 优秀's min")),
        ({1: {"max": 85}}, "grades[0].min", ("no grade covers totals in [85, 90)",)),
        ({2: {"min": 10}}, "grades[2].min", ("the lowest grade 较差 starts at 10",
                                             "set its min to 0")),
        ({0: {"max": 95}}, "grades[0].max", ("ends at 95, but totals range up to 100",
                                             "set its max to 100")),
    ],
)  # fmt: skip
def test_grade_bands_cover_the_range(tmp_path, scheme, change, where, words) -> None:
    for index, values in change.items():
        scheme["grades"][index].update(values)
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, where, *words)


def test_grades_cover_total_cap_not_total_points(tmp_path, scheme) -> None:
    scheme["total_cap"] = 105
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, "grades[0].max", "totals range up to 105 (total_cap)")


def test_rank_share_levels_out_of_order(tmp_path, scheme) -> None:
    scheme["stars"]["levels"][1]["top_share"] = 0.2
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "stars.levels[1].top_share",
        "star levels out of order: top_share 0.2 is not above the previous level's 0.3",
    )  # fmt: skip


def test_rank_share_must_end_at_one(tmp_path, scheme) -> None:
    scheme["stars"]["levels"][2]["top_share"] = 0.9
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "stars.levels[2].top_share", "get no stars",
        "set the last level's top_share to 1.0",
    )  # fmt: skip


def test_score_band_stars_fall_to_zero(tmp_path, scheme) -> None:
    scheme["stars"] = {
        "method": "score_bands",
        "levels": [{"stars": 3, "min": 90}, {"stars": 2, "min": 95}, {"stars": 1, "min": 10}],
    }
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(lines, path, "stars.levels[1].min", "min 95 is not below the previous level's 90")
    the_problem(lines, path, "stars.levels[2].min", "set the lowest level's min to 0")


def test_star_levels_take_their_methods_key(tmp_path, scheme) -> None:
    scheme["stars"]["levels"][0] = {"stars": 3, "min": 90}
    scheme["stars"]["levels"][2]["stars"] = 2
    path = write(tmp_path, scheme)
    lines = problems_of(path)
    the_problem(lines, path, "stars.levels[0]", "a rank_share level needs top_share")
    the_problem(lines, path, "stars.levels[0].min", "min does not belong to method rank_share")
    the_problem(lines, path, "stars.levels[2].stars", "2 stars listed after 2", "best first")


def test_warning_thresholds_in_order(tmp_path, scheme) -> None:
    scheme["warnings"].update(red_below=90, yellow_below=80)
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "warnings.yellow_below",
        "yellow_below 80 is not above red_below 90", "make yellow_below greater",
    )  # fmt: skip


# --- levels and regions -------------------------------------------------------------------


def test_unknown_ranked_level(tmp_path, scheme) -> None:
    scheme["ranked_level"] = "town"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "ranked_level", "'town' is not a region level",
        "'county', 'township' or 'village'",
    )  # fmt: skip


def test_unknown_peer_level(tmp_path, scheme) -> None:
    scheme["peer_level"] = "district"
    path = write(tmp_path, scheme)
    the_problem(problems_of(path), path, "peer_level", "'district' is not a region level", "city")


def test_peer_level_must_be_above_the_ranked_level(tmp_path, scheme) -> None:
    scheme["peer_level"] = "village"
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path), path, "peer_level",
        "peer level village is not above the ranked level township",
        "province, city, county",
    )  # fmt: skip


def test_scope_absent_from_the_region_master(tmp_path, scheme) -> None:
    scheme["scope"] = "110113"
    path = write(tmp_path, scheme)
    load_scheme(path, CATALOGUE)  # without a region master the scope is not checked
    the_problem(
        problems_of(path, read_regions(DIVISIONS)), path, "scope",
        "scope '110113' is not in the region master", "--regions",
    )  # fmt: skip


def test_scope_below_the_peer_level(tmp_path, scheme) -> None:
    scheme["scope"] = "110112001"
    master = tmp_path / "regions_master.csv"  # the master's column order, not the divisions'
    master.write_text(
        "code,name,level,parent_code,resident_population,floating_population\n"
        "110000,北京市,province,,,\n110112,通州区,county,110000,,\n"
        "110112001,中仓街道,township,110112,,\n",
        encoding="utf-8",
    )
    path = write(tmp_path, scheme)
    the_problem(
        problems_of(path, read_regions([master])), path, "scope",
        "scope 110112001 (中仓街道) is a township, below the peer level county",
        "e.g. 110112 (通州区)",
    )  # fmt: skip


# --- across files, shipped schemes, CLI ---------------------------------------------------


def test_two_files_with_the_same_scheme_version(tmp_path, scheme) -> None:
    first = write(tmp_path, scheme, "a.yaml")
    second = write(tmp_path, scheme, "b.yaml")
    with pytest.raises(SchemeError) as info:
        load_scheme_files([first, second], CATALOGUE)
    lines = [str(p) for p in info.value.problems]
    the_problem(lines, second, "version", f"mini version 1 is also defined in {first}")
    scheme["version"] = 2
    write(tmp_path, scheme, "b.yaml")
    assert len(load_scheme_files([first, second], CATALOGUE)) == 2


@pytest.mark.parametrize(
    ("name", "code", "categories", "indicators", "items"),
    [
        ("majuqiao.yaml", "majuqiao", 5, 12, 34),
        ("majuqiao_v2.yaml", "majuqiao", 5, 12, 34),
        ("xiaolan.yaml", "xiaolan", 9, None, None),
    ],
)
def test_shipped_schemes_validate(name, code, categories, indicators, items) -> None:
    loaded = load_scheme(SCHEMES / name, CATALOGUE, read_regions(DIVISIONS))
    assert loaded.scheme_code == code and loaded.total_points == 100
    assert len(loaded.categories) == categories
    if indicators is not None:
        assert sum(1 for _ in loaded.indicators()) == indicators
        assert sum(1 for _ in loaded.items()) == items
        assert [g.grade for g in loaded.grades] == ["优秀", "良好", "平稳", "较差"]
    rules = {item.rule for _, _, item in loaded.items()}
    assert {"deduct_per_unit", "target_ratio", "bands", "peer_position", "veto"} <= rules


def test_shipped_schemes_use_the_rules_they_promise() -> None:
    majuqiao = load_scheme(SCHEMES / "majuqiao.yaml", CATALOGUE)
    compare = sorted(item.compare_to for _, _, item in majuqiao.items() if item.rule == "change")
    assert set(compare) == {"previous_month", "same_month_last_year", "three_year_average"}
    assert {item.rule for _, _, item in majuqiao.items()} >= {
        "add_per_unit", "change", "survey_scale", "rank_movement",
    }  # fmt: skip
    xiaolan = load_scheme(SCHEMES / "xiaolan.yaml", CATALOGUE)
    assert [c.name for c in xiaolan.categories] == [
        "社会治安", "反电诈", "交通安全", "出租屋管理", "生产安全", "消防安全", "矛盾化解",
        "乱点整治", "网格巡查",
    ]  # fmt: skip
    assert xiaolan.stars and [lv.stars for lv in xiaolan.stars.levels] == [5, 4, 3, 2, 1]
    assert all(CATALOGUE[item.metric].finest_level == "village" for _, _, item in xiaolan.items())
    v2 = load_scheme(SCHEMES / "majuqiao_v2.yaml", CATALOGUE)
    assert (v2.version, v2.valid_from) == (2, "2024-09")
    assert load_scheme_files(sorted(SCHEMES.glob("*.yaml")), CATALOGUE)


def test_show_renders_the_tree_with_points() -> None:
    text = render_scheme(load_scheme(SCHEMES / "majuqiao.yaml", CATALOGUE), CATALOGUE)
    assert "categories / indicators / items: 5 / 12 / 34" in text
    assert "30  社会治安 SHZA" in text
    assert "一票否决 when > 0: −5 points, grade at most 平稳" in text
    # min_count counts raw events (AQYH_JQ_02 normalises v and the base, not min_count)
    assert "(scored when the base has ≥ 10 events, not normalised)" in text
    assert "the mean of the same month 1, 2 and 3 years back (those present)" in text
    assert "escalated at the 3rd red month in a row (months as published)" in text
    assert "tie-break (category scores, in order): SHZA, MDJF, AQYH" in text


def test_cli_validate_bad_file_exits_1_without_traceback(tmp_path, scheme, capsys) -> None:
    scheme["categories"][0]["indicators"][0]["items"][0]["metric"] = "police_incidents_crime"
    bad = write(tmp_path, scheme)
    assert main(["scheme", "validate", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert f"{bad}: {ITEM}.metric: unknown metric 'police_incidents_crime' — " in err
    assert "Traceback" not in out + err


def test_cli_validate_good_files_exits_0(tmp_path, capsys) -> None:
    files = [str(SCHEMES / name) for name in ("majuqiao.yaml", "xiaolan.yaml")]
    regions = [a for path in DIVISIONS for a in ("--regions", str(path))]
    assert main(["scheme", "validate", *files, *regions]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in out] == [f"ok: {f}" for f in files]
    assert "5 categories, 12 indicators, 34 items, 100 points" in out[0]


def test_cli_validate_checks_the_scope_against_the_given_regions(tmp_path, scheme, capsys) -> None:
    regions = tmp_path / "regions.csv"
    regions.write_text("level,code,parent_code,name\nprovince,440000,,广东省\n", encoding="utf-8")
    path = write(tmp_path, copy.deepcopy(scheme))
    assert main(["scheme", "validate", str(path), "--regions", str(regions)]) == 1
    assert "scope '110112' is not in the region master" in capsys.readouterr().err
