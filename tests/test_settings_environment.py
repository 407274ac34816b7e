"""settings.environment(): a run's environment variables, restored afterwards."""

from __future__ import annotations

import os

import pytest

from pingan_transforms.settings import environment


def test_variables_are_set_for_the_block_and_restored_even_after_an_error(monkeypatch) -> None:
    monkeypatch.setenv("PINGAN_TEST_KEPT", "before")
    monkeypatch.delenv("PINGAN_TEST_NEW", raising=False)
    with (
        pytest.raises(RuntimeError),
        environment({"PINGAN_TEST_KEPT": "during", "PINGAN_TEST_NEW": "during"}),
    ):
        assert os.environ["PINGAN_TEST_KEPT"] == os.environ["PINGAN_TEST_NEW"] == "during"
        raise RuntimeError("the run failed")
    assert os.environ["PINGAN_TEST_KEPT"] == "before"
    assert "PINGAN_TEST_NEW" not in os.environ
