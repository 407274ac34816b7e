"""What a person signing off (签发) a draft is asked, and what the office can see of it.

The monthly DAG asks one question per draft in Airflow's Required Actions: its subject
names the scheme, the month and the revision; its body gives the headline figures, the
units whose grade changed, and the paths of the draft files to open before deciding.
The answer is one of :data:`OPTIONS` with the person's name (签发人) and, to send a
draft back, a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pingan_transforms.months import Month
from pingan_transforms.publish.wording import revision_suffix

if TYPE_CHECKING:  # the DAG file imports the options: keep this module light
    import psycopg

    from pingan_transforms.publish.publications import Draft
    from pingan_transforms.warehouse import WarehouseTarget

APPROVE = "签发"
REJECT = "退回"
OPTIONS = (APPROVE, REJECT)
# the form beside the options: who decides, and why a draft goes back
SIGNER_PARAM = "signer"
REASON_PARAM = "reason"
# every request's subject starts with a tag naming its draft: `pingan publish approve`
# finds a scheme's month by it, and the publish task knows which draft an answer is for


def subject_tag(
    scheme_code: str, month: Month, revision: int | None = None, draft_id: int | None = None
) -> str:
    """``[pingan majuqiao 2024-08 r1 #17]`` for draft 17; without the draft, the prefix
    its subjects share (``[pingan majuqiao 2024-08 r1 #``, or ``[pingan majuqiao 2024-08 r``
    for every revision of the month)."""
    tag = f"[pingan {scheme_code} {month} r"
    if revision is None:
        return tag
    tag += f"{revision} #"
    return tag if draft_id is None else f"{tag}{draft_id}]"


_DRAFT_ID = re.compile(r"^\[pingan \S+ \d{4}-\d{2} r\d+ #(\d+)\]")


def draft_id_of(subject: str) -> int:
    """The draft a sign-off request asks about, from its subject's tag."""
    found = _DRAFT_ID.match(subject)
    if found is None:
        raise ValueError(f"not a sign-off request of pingan_monthly: {subject!r}")
    return int(found.group(1))


_HEADLINE = ("region_code", "region_name", "score", "grade", "rank_in_peer_group")


def signoff_request(target: WarehouseTarget, draft: Draft) -> dict[str, str]:
    """The human-in-the-loop task's ``subject`` and ``body`` (Markdown) for the draft."""
    from pingan_transforms.publish.index_reader import read_units
    from pingan_transforms.settings import get_settings
    from pingan_transforms.warehouse import connect

    with connect(target) as conn:
        units = read_units(conn, draft.scheme_code, draft.month, _HEADLINE)
        before = {
            r["region_code"]: r["grade"]
            for r in read_units(conn, draft.scheme_code, draft.month.shift(-1), _HEADLINE)
        }
    kind = revision_suffix(draft.revision).strip("（）") or "首次发布"
    tag = subject_tag(draft.scheme_code, draft.month, draft.revision, draft.draft_id)
    subject = f"{tag} 签发：{draft.subject}"
    scores = [Decimal(u["score"]) for u in units]
    top = min(units, key=lambda u: (u["rank_in_peer_group"], u["region_code"]))
    lines = [
        f"**{draft.subject}**（{kind}，方案 {draft.scheme_code} 第{draft.scheme_version}版）",
        "",
        f"- 参评单位：{len(units)} 个；平均分 {sum(scores) / len(scores):.2f}，"
        f"最高 {max(scores):.2f}，最低 {min(scores):.2f}；第一名 {top['region_name']}",
        f"- 等级分布：{_grades(units)}",
    ]
    moved = [
        f"{u['region_name']} {before[u['region_code']]}→{u['grade']}"
        for u in units
        if u["region_code"] in before and before[u["region_code"]] != u["grade"]
    ]
    lines.append(f"- 较上月等级变化：{'；'.join(moved) if moved else '无'}")
    lines += _cutoff_lines(draft, get_settings().timezone)
    if draft.revision > 1:
        changed = [
            f"{c['region_name']} {c['field']} {c['before']}→{c['after']}" for c in draft.changes
        ]
        lines.append(f"- 本次修订变化：{'；'.join(changed) if changed else '无'}")
    lines += ["", "草稿文件：", *(f"- {name}: `{path}`" for name, path in draft.files.items())]
    lines += ["", f"选择“{APPROVE}”并填写签发人后发送；选择“{REJECT}”须填写理由，不发送。"]
    return {"subject": subject, "body": "\n".join(lines)}


def local_moment(moment: datetime, tz: str) -> str:
    """``2024-09-03 24:00``: local time, midnight written as the end of the day before,
    as offices state a cutoff."""
    local = moment.astimezone(ZoneInfo(tz))
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{local - timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def _cutoff_lines(draft: Draft, tz: str) -> list[str]:
    """The month's data cutoff and how far the data behind the draft was read; a first
    publication read past its cutoff is flagged, since it holds later arrivals."""
    if draft.cutoff_at is None:
        return []
    read = "未知" if draft.data_loaded_to is None else local_moment(draft.data_loaded_to, tz)
    lines = [f"- 考核截止：{local_moment(draft.cutoff_at, tz)}；源数据读取至 {read}"]
    if draft.after_cutoff:
        lines.append(
            "- **注意：本稿为首次发布，所用数据读取至考核截止之后，含截止后到达的记录或更正，"
            "与截止规则不一致。**"
        )
    return lines


def _grades(units: list[dict]) -> str:
    counts: dict[str, int] = {}
    for u in units:
        counts[u["grade"]] = counts.get(u["grade"], 0) + 1
    return "，".join(f"{grade} {n}" for grade, n in counts.items())


@dataclass(frozen=True)
class DraftStatus:
    """A row of ``pingan publish status``."""

    draft_id: int
    scheme_code: str
    month: Month
    revision: int
    status: str
    subject: str
    drafted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    signoff_via: str = "airflow"  # or "office": a revision for `pingan publish approve`


def draft_statuses(conn: psycopg.Connection, *, limit: int = 50) -> list[DraftStatus]:
    """The latest drafts, newest first: waiting, signed (approved), rejected, superseded."""
    rows = conn.execute(
        "select draft_id, scheme_code, month_start, revision, status, subject, drafted_at, "
        "decided_by, decided_at, reason, signoff_via from publish.drafts "
        "order by draft_id desc limit %s",
        (limit,),
    ).fetchall()
    return [
        DraftStatus(r[0], r[1], Month.of(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
        for r in rows
    ]
