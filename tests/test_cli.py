"""The CLI reports user errors in one line and an exit code, never a traceback."""

from __future__ import annotations

import pytest

from pingan_transforms.cli import main


def test_bad_month_is_a_one_line_error(capsys) -> None:
    assert main(["ranking", "2024-13"]) == 2
    err = capsys.readouterr().err
    assert "'2024-13' is not a month: write it as YYYY-MM" in err
    assert "Traceback" not in err


def test_missing_region_master_names_the_setting(
    databases, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan_transforms import tasks
    from pingan_transforms.settings import ConfigError

    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(tmp_path / "nowhere.csv"))
    with pytest.raises(ConfigError, match="PINGAN_REGIONS_FILE"):
        tasks.load_regions()


def test_region_master_without_required_columns_names_the_file_and_columns(
    databases, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan_transforms import tasks
    from pingan_transforms.settings import ConfigError

    bad = tmp_path / "regions.csv"
    bad.write_text("code,name\n110112,通州区\n", encoding="utf-8")
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(bad))
    with pytest.raises(
        ConfigError, match=r"regions.csv: not a region master export: missing column\(s\) level"
    ):
        tasks.load_regions()


def test_an_empty_warehouse_says_no_month_was_scored_yet(databases, capsys) -> None:
    """Issue 16: before any month ran, the marts do not exist: one line, what to run."""
    for args in (["ranking", "2024-09"], ["explain", "majuqiao", "2024-09", "马驹桥镇"]):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert err.startswith("pingan: no month has been scored in this warehouse yet "), err
        assert "pingan run YYYY-MM --sign-off-as NAME" in err and "Traceback" not in err
    assert main(["appeal", "list"]) == 0  # the appeals' tables exist from the start
    assert capsys.readouterr().out.strip() == "no appeals"
