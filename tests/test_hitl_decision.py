"""hitl.decision(): what the sign_off task's answer means for the publish task."""

from __future__ import annotations

import pytest

from pingan_transforms.hitl import SignoffError, decision


def _answer(option: str, signer: str = "", reason: str = "", user: str | None = None) -> dict:
    return {
        "chosen_options": [option],
        "params_input": {"signer": signer, "reason": reason},
        "responded_by_user": {"id": user, "name": user} if user else None,
    }


def test_the_signer_named_in_the_form_decides_else_the_airflow_user() -> None:
    assert decision(_answer("签发", " 张三 ", user="admin")) == (True, "张三", None)
    assert decision(_answer("签发", user="admin")) == (True, "admin", None)
    assert decision(_answer("退回", "李四", " 数据待核实 ")) == (False, "李四", "数据待核实")


def test_an_answer_without_a_name_or_with_an_unknown_option_is_refused() -> None:
    with pytest.raises(SignoffError, match="names nobody"):
        decision(_answer("签发"))
    with pytest.raises(SignoffError, match="expected one of 签发, 退回"):
        decision(_answer("Approve", "张三"))
