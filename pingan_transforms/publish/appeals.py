"""Appeals (申诉复核, issue 14): a unit contests the records behind a deduction.

A town's leader reads ``pingan explain`` or the deductions sheet and says "these two
incidents were on the expressway, not ours". Instead of a phone call and a spreadsheet,
the office files the appeal against the records as the marts count them
(``pingan appeal file``), and a named person accepts or rejects it
(``pingan appeal decide``). Everything is kept in ``publish.appeals`` with the records
contested (``publish.appeal_records``) and every step (``publish.appeal_events``).

An accepted appeal is data, not an edit of the numbers: dbt reads it
(``int_metric_records_appealed``) and takes the records out of the unit's metrics for
that month, or moves them to the unit the decision names, at the next build of the
month. A published month then changes like any corrected month: the run reviews it,
drafts a revision for the office to sign off, and that revision names the appeals it
counts (本次修订说明). A month not yet published counts its decided appeals in its first
publication; a draft rendered before an appeal was decided is refused at sign-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pingan_transforms.months import Month
from pingan_transforms.publish.index_reader import read_units

if TYPE_CHECKING:
    import psycopg

Status = Literal["filed", "accepted", "rejected"]
STATUS_NAMES = {"filed": "待复核", "accepted": "已采纳", "rejected": "未采纳"}


class AppealError(ValueError):
    """An appeal that cannot be filed or decided as asked; the message says why and
    what to do, in one line."""


@dataclass(frozen=True)
class AppealRecord:
    source_entity: str
    record_key: str
    placed_code: str


@dataclass(frozen=True)
class Appeal:
    """An appeal as ``publish.appeals`` holds it, with the records it contests."""

    appeal_id: int
    scheme_code: str
    month: Month
    region_code: str
    region_name: str | None
    reason: str
    filed_by: str | None
    filed_at: datetime
    status: Status
    move_to: str | None
    move_to_name: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    applied_in_revision: int | None
    records: tuple[AppealRecord, ...] = ()

    def describe(self) -> str:
        """One line in Chinese, as the revision names it: ``申诉第3号（马驹桥镇，2条记录：
        J1、J2；理由：高速公路上发生，不属本镇辖区）已采纳，不计入该镇``."""
        keys = "、".join(r.record_key for r in self.records)
        text = (
            f"申诉第{self.appeal_id}号（{self.region_name or self.region_code}，"
            f"{len(self.records)}条记录：{keys}；理由：{self.reason}）"
            f"{STATUS_NAMES[self.status]}"
        )
        if self.status == "accepted":
            text += (
                f"，改计入{self.move_to_name or self.move_to}" if self.move_to else "，不计入该单位"
            )
        return text


_COLUMNS = (
    "appeal_id, scheme_code, month_start, region_code, region_name, reason, filed_by, "
    "filed_at, status, move_to, move_to_name, decided_by, decided_at, decision_note, "
    "applied_in_revision"
)


def _unit(conn: psycopg.Connection, scheme: str, month: Month, unit: str) -> tuple[str, str]:
    """A ranked unit of the scheme's month, by its region code or its name."""
    units = read_units(conn, scheme, month, ("region_code", "region_name"))
    if not units:
        raise AppealError(f"scheme {scheme!r} has no scores for {month} in the marts")
    found = [u for u in units if unit in (u["region_code"], u["region_name"])]
    if len(found) != 1:
        what = "no unit" if not found else f"{len(found)} units"
        raise AppealError(
            f"{what} of scheme {scheme!r} in {month} named or coded {unit!r}: give its "
            "region code (`pingan ranking` lists them)"
        )
    return found[0]["region_code"], found[0]["region_name"]


def _read(conn: psycopg.Connection, where: str, params: tuple[object, ...]) -> list[Appeal]:
    rows = conn.execute(
        f"select {_COLUMNS} from publish.appeals where {where} order by appeal_id", params
    ).fetchall()
    if not rows:
        return []
    records: dict[int, list[AppealRecord]] = {}
    for appeal_id, *record in conn.execute(
        "select appeal_id, source_entity, record_key, placed_code from publish.appeal_records "
        "where appeal_id = any(%s) order by appeal_id, record_key, source_entity",
        ([row[0] for row in rows],),
    ):
        records.setdefault(appeal_id, []).append(AppealRecord(*record))
    appeals = []
    for row in rows:
        values = list(row)
        values[2] = Month.of(values[2])
        appeals.append(Appeal(*values, records=tuple(records.get(row[0], ()))))  # type: ignore[arg-type]
    return appeals


def read_appeal(conn: psycopg.Connection, appeal_id: int) -> Appeal:
    found = _read(conn, "appeal_id = %s", (appeal_id,))
    if not found:
        raise AppealError(f"no appeal {appeal_id}: `pingan appeal list` shows them")
    return found[0]


def list_appeals(
    conn: psycopg.Connection, scheme: str | None = None, month: Month | None = None
) -> list[Appeal]:
    """Every appeal, or those of a scheme and month, oldest first."""
    return _read(
        conn,
        "(%s::text is null or scheme_code = %s) and (%s::date is null or month_start = %s)",
        (scheme, scheme, *(2 * [month.first_day if month else None])),
    )


def _records(
    conn: psycopg.Connection, scheme: str, month: Month, unit: tuple[str, str], keys: list[str]
) -> list[AppealRecord]:
    """The records of ``keys`` counted in the unit's month; an error names a key that is
    not, and where it is counted if anywhere."""
    found: list[AppealRecord] = []
    for key in keys:
        rows = conn.execute(
            "select distinct source_entity, record_key, placed_code "
            "from marts.region_index_records where scheme_code = %s and month_start = %s "
            "and region_code = %s and record_key = %s",
            (scheme, month.first_day, unit[0], key),
        ).fetchall()
        if rows:
            found.extend(AppealRecord(*row) for row in rows)
            continue
        elsewhere = conn.execute(
            "select placed_name, placed_code, month_start from marts.region_index_records "
            "where record_key = %s order by month_start desc limit 1",
            (key,),
        ).fetchone()
        if elsewhere is None:
            raise AppealError(
                f"unknown record key {key!r}: `pingan explain {scheme} {month} {unit[0]} "
                "--all` lists the records counted in the unit"
            )
        place = elsewhere[0] or elsewhere[1]
        raise AppealError(
            f"record {key!r} is not counted in {unit[1]} in {month} (it is counted in "
            f"{place} in {Month.of(elsewhere[2])}): only a unit's own records can be appealed"
        )
    return found


def file_appeal(
    conn: psycopg.Connection,
    scheme: str,
    month: Month,
    unit: str,
    keys: list[str],
    reason: str,
    by: str | None = None,
) -> Appeal:
    """Record a unit's appeal against records counted in it in the month."""
    if not reason.strip():
        raise AppealError("an appeal needs --reason: say why the records do not belong")
    keys = list(dict.fromkeys(k.strip() for k in keys if k.strip()))
    if not keys:
        raise AppealError("an appeal names the records it contests: --records KEY [KEY ...]")
    code, name = _unit(conn, scheme, month, unit)
    records = _records(conn, scheme, month, (code, name), keys)
    open_ = conn.execute(
        "select a.appeal_id, r.record_key, a.status from publish.appeals a "
        "join publish.appeal_records r using (appeal_id) where a.scheme_code = %s "
        "and a.month_start = %s and a.status in ('filed', 'accepted') "
        "and r.record_key = any(%s) order by a.appeal_id limit 1",
        (scheme, month.first_day, keys),
    ).fetchone()
    if open_ is not None:
        raise AppealError(
            f"record {open_[1]!r} is already in appeal {open_[0]} ({STATUS_NAMES[open_[2]]}): "
            "`pingan appeal list` shows it"
        )
    (appeal_id,) = conn.execute(
        "insert into publish.appeals (scheme_code, month_start, region_code, region_name, "
        "reason, filed_by) values (%s, %s, %s, %s, %s, %s) returning appeal_id",
        (scheme, month.first_day, code, name, reason.strip(), by),
    ).fetchone()
    with conn.cursor() as cur:
        cur.executemany(
            "insert into publish.appeal_records (appeal_id, source_entity, record_key, "
            "placed_code) values (%s, %s, %s, %s)",
            [(appeal_id, r.source_entity, r.record_key, r.placed_code) for r in records],
        )
    _event(conn, appeal_id, "filed", by, reason.strip())
    return read_appeal(conn, appeal_id)


def decide_appeal(
    conn: psycopg.Connection,
    appeal_id: int,
    *,
    accept: bool,
    by: str,
    move_to: str | None = None,
    note: str | None = None,
) -> Appeal:
    """Accept (the records leave the unit's month, or move to ``move_to``) or reject
    an appeal, once, naming who decided."""
    if not by.strip():
        raise AppealError("a decision names who took it: --by NAME")
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"pingan.appeal:{appeal_id}",))
    appeal = read_appeal(conn, appeal_id)
    if appeal.status != "filed":
        when = f"{appeal.decided_at:%Y-%m-%d %H:%M}" if appeal.decided_at else ""
        raise AppealError(
            f"appeal {appeal_id} was already decided ({STATUS_NAMES[appeal.status]} by "
            f"{appeal.decided_by} at {when}): a decision is final; file a new appeal"
        )
    target: tuple[str, str] | None = None
    if move_to is not None:
        if not accept:
            raise AppealError("--move-to goes with accept: a rejected appeal moves nothing")
        target = _unit(conn, appeal.scheme_code, appeal.month, move_to)
        if target[0] == appeal.region_code:
            raise AppealError(
                f"--move-to {move_to!r} is the unit that appealed: name the unit the "
                "records belong to, or leave --move-to out to count them nowhere"
            )
    status: Status = "accepted" if accept else "rejected"
    conn.execute(
        "update publish.appeals set status = %s, decided_by = %s, decided_at = now(), "
        "decision_note = %s, move_to = %s, move_to_name = %s where appeal_id = %s",
        (status, by.strip(), note, target[0] if target else None,
         target[1] if target else None, appeal_id),
    )  # fmt: skip
    _event(conn, appeal_id, status, by.strip(), note)
    return read_appeal(conn, appeal_id)


def _event(
    conn: psycopg.Connection, appeal_id: int, event: str, actor: str | None, note: str | None
) -> None:
    conn.execute(
        "insert into publish.appeal_events (appeal_id, event, actor, note) values (%s, %s, %s, %s)",
        (appeal_id, event, actor, note),
    )


def appeals_to_count(conn: psycopg.Connection, scheme: str, month: Month) -> list[Appeal]:
    """The accepted appeals of the scheme's month that no publication counted yet: the
    ones a draft rendered now counts."""
    return _read(
        conn,
        "scheme_code = %s and month_start = %s and status = 'accepted' "
        "and applied_in_revision is null",
        (scheme, month.first_day),
    )


def mark_applied(
    conn: psycopg.Connection, appeal_ids: list[int], revision: int, by: str | None
) -> None:
    """The publication of ``revision`` counted these appeals: record it once."""
    for appeal_id in appeal_ids:
        updated = conn.execute(
            "update publish.appeals set applied_in_revision = %s "
            "where appeal_id = %s and applied_in_revision is null",
            (revision, appeal_id),
        ).rowcount
        if updated:
            _event(conn, appeal_id, "applied", by, f"第{revision}版通报")


def format_appeals(appeals: list[Appeal]) -> str:
    """``pingan appeal list``: one line per appeal, then its records."""
    lines = []
    for a in appeals:
        decided = (
            f" {a.decided_by} {a.decided_at:%Y-%m-%d %H:%M}"
            if a.decided_by and a.decided_at
            else ""
        )
        moved = f" → {a.move_to_name or a.move_to}" if a.move_to else ""
        applied = f" 已计入第{a.applied_in_revision}版" if a.applied_in_revision else ""
        lines.append(
            f"{a.appeal_id:>4}  {a.scheme_code} {a.month} {a.region_name or a.region_code}"
            f"（{a.region_code}） {STATUS_NAMES[a.status]}{moved}{decided}{applied}  "
            f"理由：{a.reason}"
        )
        for r in a.records:
            lines.append(f"        {r.source_entity} {r.record_key} @ {r.placed_code}")
    return "\n".join(lines)
