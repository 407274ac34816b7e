"""config/quality.yml read as an operator edits it: every mistake named with its key and
fix, and an edit read at the next decision without a restart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pingan_transforms.quality.policy import gate_policy, load_policy
from pingan_transforms.settings import ConfigError, Settings
from tests.helpers import PROJECT


def test_the_shipped_policy_is_valid() -> None:
    policy = load_policy(PROJECT / "config" / "quality.yml")
    assert policy.default == "block" and policy.rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default: maybe\n", "  default: must be block or report"),
        ("rules:\n  - suite: 'raw.*'\n", "  rules.0.action: required: add it (block or report)"),
        (
            "rules:\n  - action: report\n    table: x\n",
            "  rules.0.table: unknown key: remove it or correct its name "
            "(allowed: suite, check, action, why)",
        ),
        ("colour: red\n", "  colour: unknown key: remove it or correct its name "
                          "(allowed: default, rules)"),
        ("- block\n", "expected a mapping with default and rules"),
        ("default: [\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_mistake_names_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "quality.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_policy(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)


def test_a_missing_file_says_which_setting_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PINGAN_QUALITY_FILE"):
        gate_policy(Settings(quality_file=tmp_path / "nowhere.yml"))


def test_an_edit_is_read_at_the_next_decision(tmp_path: Path) -> None:
    path = tmp_path / "quality.yml"
    path.write_text("default: block\n", encoding="utf-8")
    settings = Settings(quality_file=path)
    assert gate_policy(settings).default == "block"
    assert gate_policy(settings) is gate_policy(settings)  # unchanged: read once
    path.write_text("default: report\n", encoding="utf-8")
    os.utime(path, (1_900_000_000, 1_900_000_000))  # a later modification time
    assert gate_policy(settings).default == "report"
