"""Publish a month: the bulletin mailed once per content, every publication recorded.

For every scheme with a ranking in the month, :func:`publish_month`

1. reads the month's published content from the marts (``region_index_monthly`` and
   the item scores of ``region_index_items``) and its SHA-256 over a canonical
   serialisation (:func:`canonical_content`: fixed columns, rows in key order,
   decimals normalised; not the PDF, whose bytes change with every rendering);
2. if the latest revision recorded for (scheme, month) has the same checksum, sends
   nothing: the result is ``unchanged``;
3. otherwise publishes revision latest + 1: the differences against the previous
   revision (units whose score, rank or grade moved, from the snapshot in
   ``publish.publication_units``), the ranking files refreshed, the bulletin rendered
   with the revision and its changes, the email sent with the PDF and the xlsx; the
   publication row and its snapshot are written in the same transaction, which
   commits only after the mail server took the message. A failed send records
   nothing, so the next run tries the same revision again.

:func:`revise_published` does steps 1–3 for every month published earlier: the
monthly run that loads late corrections to last month also mails last month's
revision, so a published month never changes silently. A scheme no longer ranked in
a month it was published for is left as published (there is nothing to restate).

Publications of one (scheme, month) are serialised by an advisory lock, so two runs
cannot both publish the same revision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from pingan_transforms.months import Month
from pingan_transforms.publish.index_reader import read_units
from pingan_transforms.settings import Settings
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from email.message import EmailMessage

    from pingan_transforms.publish.bulletin_data import RevisionChange
    from pingan_transforms.publish.exports import PublishedRanking
    from pingan_transforms.publish.mail import Sent

CONTENT_FORMAT = "pingan.publication-content"
CONTENT_FORMAT_VERSION = 1

# What a month's publication is: these columns of region_index_monthly (one row per
# unit) and each unit's item scores. Cosmetics of the scheme file (names of the
# scheme and total, grade colours) are not content.
UNIT_COLUMNS = (
    "region_code", "scheme_version", "region_name", "region_level", "peer_group_code",
    "peer_group_name", "score", "grade", "stars", "warning_level", "rank_in_peer_group",
    "units_ranked", "previous_rank", "rank_change", "previous_score", "score_change_pct",
    "previous_restated", "last_year_rank", "last_year_score",
)  # fmt: skip
ITEM_COLUMNS = ("region_code", "item_code", "item_score")

Status = Literal["sent", "unchanged"]


@dataclass(frozen=True)
class UnitSnapshot:
    """One unit as a revision published it: what later revisions are compared with."""

    region_code: str
    region_name: str | None
    score: Decimal
    rank: int
    grade: str


@dataclass(frozen=True)
class MonthContent:
    """A scheme's month as the marts hold it now, with its checksum."""

    scheme_code: str
    scheme_version: int
    month: Month
    units: tuple[UnitSnapshot, ...]  # in ranking order
    checksum: str


@dataclass(frozen=True)
class PublicationResult:
    scheme_code: str
    scheme_version: int
    month: Month
    revision: int
    status: Status
    checksum: str
    subject: str | None = None
    recipients: tuple[str, ...] = ()
    message_id: str | None = None
    files: tuple[dict[str, object], ...] = ()
    changes: tuple[RevisionChange, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, object]:
        """JSON-serialisable (the task's XCom)."""
        return {
            "scheme": self.scheme_code,
            "scheme_version": self.scheme_version,
            "month": str(self.month),
            "revision": self.revision,
            "status": self.status,
            "checksum": self.checksum,
            "subject": self.subject,
            "recipients": list(self.recipients),
            "message_id": self.message_id,
            "files": [f["name"] for f in self.files],
            "changes": len(self.changes),
        }


# ---------------------------------------------------------------------------
# Content and checksum
# ---------------------------------------------------------------------------


def _canonical(value: object) -> object:
    """A value as the same JSON whatever its SQL type's scale: 80.5 = 80.50."""
    if isinstance(value, Decimal):
        return "0" if value == 0 else format(value.normalize(), "f")
    if isinstance(value, float):
        return _canonical(Decimal(repr(value)))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def canonical_content(
    scheme_code: str,
    month: Month,
    units: Sequence[Sequence[object]],
    items: Sequence[Sequence[object]],
) -> bytes:
    """The published content as deterministic bytes: the checksum's input.

    Rows are sorted by their key (region code; region and item code), values
    normalised (decimals without trailing zeros), JSON with sorted keys and no
    whitespace; the column lists are part of it, so a change of what counts as
    content changes every checksum once instead of comparing unlike things.
    """
    document = {
        "format": CONTENT_FORMAT,
        "format_version": CONTENT_FORMAT_VERSION,
        "scheme_code": scheme_code,
        "month": str(month),
        "unit_columns": list(UNIT_COLUMNS),
        "units": sorted([_canonical(v) for v in row] for row in units),
        "item_columns": list(ITEM_COLUMNS),
        "items": sorted([_canonical(v) for v in row] for row in items),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def read_content(conn: psycopg.Connection, scheme_code: str, month: Month) -> MonthContent | None:
    """The scheme's month in the marts now, or None when it has no ranking."""
    units = [
        tuple(record.values()) for record in read_units(conn, scheme_code, month, UNIT_COLUMNS)
    ]
    if not units:
        return None
    items = conn.execute(
        f"select {', '.join(ITEM_COLUMNS)} from marts.region_index_items "
        "where scheme_code = %s and month_start = %s order by region_code, item_code",
        (scheme_code, month.first_day),
    ).fetchall()
    checksum = hashlib.sha256(canonical_content(scheme_code, month, units, items)).hexdigest()
    col = {name: i for i, name in enumerate(UNIT_COLUMNS)}
    snapshots = sorted(
        (
            UnitSnapshot(
                region_code=row[col["region_code"]],
                region_name=row[col["region_name"]],
                score=row[col["score"]],
                rank=row[col["rank_in_peer_group"]],
                grade=row[col["grade"]],
            )
            for row in units
        ),
        key=lambda u: (u.rank, u.region_code),
    )
    versions = {row[col["scheme_version"]] for row in units}
    return MonthContent(
        scheme_code=scheme_code,
        scheme_version=max(versions),
        month=month,
        units=tuple(snapshots),
        checksum=checksum,
    )


# ---------------------------------------------------------------------------
# What was published before
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    revision: int
    checksum: str


def latest_publication(conn: psycopg.Connection, scheme_code: str, month: Month) -> Recorded | None:
    row = conn.execute(
        "select revision, checksum from publish.publications "
        "where scheme_code = %s and month_start = %s order by revision desc limit 1",
        (scheme_code, month.first_day),
    ).fetchone()
    return Recorded(*row) if row else None


def published_units(
    conn: psycopg.Connection, scheme_code: str, month: Month, revision: int
) -> tuple[UnitSnapshot, ...]:
    rows = conn.execute(
        "select region_code, region_name, score, rank, grade from publish.publication_units "
        "where scheme_code = %s and month_start = %s and revision = %s "
        "order by rank, region_code",
        (scheme_code, month.first_day, revision),
    ).fetchall()
    return tuple(UnitSnapshot(*row) for row in rows)


NOT_PUBLISHED = "—"


def _shown(unit: UnitSnapshot | None, name: str) -> str:
    if unit is None:
        return NOT_PUBLISHED
    if name == "score":
        return f"{unit.score:.2f}"
    if name == "rank":
        return str(unit.rank)
    return unit.grade


def diff_units(
    before: Sequence[UnitSnapshot], after: Sequence[UnitSnapshot]
) -> list[RevisionChange]:
    """Units whose score, rank or grade moved, in this revision's ranking order; a unit
    that appears or disappears shows ``—`` on the side where it is missing."""
    return [change for _, change in _diff(before, after)]


def _diff(
    before: Sequence[UnitSnapshot], after: Sequence[UnitSnapshot]
) -> list[tuple[str, RevisionChange]]:
    from pingan_transforms.publish.bulletin_data import RevisionChange

    old = {u.region_code: u for u in before}
    new = {u.region_code: u for u in after}
    changes: list[tuple[str, RevisionChange]] = []
    for code in dict.fromkeys([*new, *old]):  # this revision's order, then the units gone
        was, now = old.get(code), new.get(code)
        shown = now or was
        name = (shown.region_name if shown else None) or code
        for field_name in ("score", "rank", "grade"):
            a, b = _shown(was, field_name), _shown(now, field_name)
            if a != b:
                changes.append((code, RevisionChange(name, field_name, a, b)))
    return changes


def _change_records(
    before: Sequence[UnitSnapshot], after: Sequence[UnitSnapshot]
) -> list[dict[str, object]]:
    """The changes as the publication row keeps them (``publish.publications.changes``)."""
    return [
        {
            "region_code": code,
            "region_name": c.region_name,
            "field": c.field,
            "before": c.before,
            "after": c.after,
        }
        for code, c in _diff(before, after)
    ]


def data_cutoff(conn: psycopg.Connection) -> datetime | None:
    """When the newest data behind the marts was extracted (``raw._batches``)."""
    return conn.execute("select max(extracted_at) from raw._batches").fetchone()[0]


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def publication_title(ranking: PublishedRanking) -> str:
    """``2024年9月通州区平安指数``: the month, the area ranked (the peer group when
    there is one, else the scheme's name) and what the total is called; the
    bulletin's subject is this title + ``通报`` (publish/bulletin.py)."""
    groups = {u.row.peer_group_name for u in ranking.units if u.row.peer_group_name}
    area = groups.pop() if len(groups) == 1 else (ranking.scheme_name or ranking.scheme_code)
    return f"{ranking.month.year}年{ranking.month.month}月{area}{ranking.total_label}"


def revision_suffix(revision: int) -> str:
    """Nothing for the first publication, ``（第2次修订）`` … after, as the bulletin's subject."""
    return "" if revision <= 1 else f"（第{revision}次修订）"


def attachment_names(ranking: PublishedRanking, revision: int) -> tuple[str, str]:
    """The PDF's and the xlsx's file names as attached: ``2024年9月通州区平安指数通报.pdf``,
    ``2024年9月通州区平安指数排名.xlsx`` (``…（第2次修订）.pdf`` for a revision)."""
    title, suffix = publication_title(ranking), revision_suffix(revision)
    return f"{title}通报{suffix}.pdf", f"{title}排名{suffix}.xlsx"


def _name_attachment(html: str, rendered: str, attached: str) -> str:
    """The body's 附件 line names the PDF as the mail attaches it, not as it is on disk."""
    from html import escape

    return html.replace(f"附件：{escape(rendered)}", f"附件：{escape(attached)}")


# ---------------------------------------------------------------------------
# Publishing
# ---------------------------------------------------------------------------

Sender = Callable[["EmailMessage", str], "Sent"]


def publish_month(
    target: WarehouseTarget,
    month: Month,
    settings: Settings,
    *,
    schemes: Sequence[str] | None = None,
    send: Sender | None = None,
) -> list[PublicationResult]:
    """Publish every scheme ranked in the month, or those of ``schemes`` that are
    (see the module docstring)."""
    from pingan_transforms.publish.config import publishing_config
    from pingan_transforms.publish.index_reader import published_schemes
    from pingan_transforms.publish.mail import send_message

    config = publishing_config(settings)
    with connect(target) as conn:
        ranked = published_schemes(conn, month)
    codes = [c for c in ranked if schemes is None or c in schemes]
    for code in codes:  # fail before anything is sent if a scheme has nobody to go to
        config.recipients(code)
    return [_publish_scheme(target, code, month, settings, send or send_message) for code in codes]


def revise_published(
    target: WarehouseTarget, settings: Settings, before: Month, *, send: Sender | None = None
) -> list[PublicationResult]:
    """Every (scheme, month) published before ``before`` whose content has changed since
    its latest revision gets its next revision (late data never changes a published
    month silently); the unchanged ones send nothing. Returns one result per pair."""
    with connect(target) as conn:
        published = conn.execute(
            "select distinct month_start, scheme_code from publish.publications "
            "where month_start < %s order by month_start, scheme_code",
            (before.first_day,),
        ).fetchall()
    by_month: dict[Month, list[str]] = {}
    for start, code in published:
        by_month.setdefault(Month.of(start), []).append(code)
    return [
        result
        for month, codes in by_month.items()
        for result in publish_month(target, month, settings, schemes=codes, send=send)
    ]


def _publish_scheme(
    target: WarehouseTarget, code: str, month: Month, settings: Settings, send: Sender
) -> PublicationResult:
    from pingan_transforms.publish.bulletin import render_bulletin
    from pingan_transforms.publish.config import publishing_config
    from pingan_transforms.publish.exports import read_published, write_ranking_files
    from pingan_transforms.publish.mail import (
        Attachment,
        address_spec,
        build_message,
        check_connection,
        send_message,
    )

    config = publishing_config(settings)
    recipients = config.recipients(code)
    with connect(target) as conn:  # one transaction: commits after the mail was taken
        conn.execute(
            "select pg_advisory_xact_lock(hashtext(%s))", (f"pingan.publish:{code}:{month}",)
        )
        content = read_content(conn, code, month)
        ranking = read_published(conn, code, month)
        if content is None or ranking is None:
            raise RuntimeError(f"no ranking of scheme {code!r} for {month} in the marts")
        latest = latest_publication(conn, code, month)
        if latest is not None and latest.checksum == content.checksum:
            return PublicationResult(
                code, content.scheme_version, month, latest.revision, "unchanged",
                content.checksum,
            )  # fmt: skip
        revision = 1 if latest is None else latest.revision + 1
        before = () if latest is None else published_units(conn, code, month, latest.revision)
        changes = diff_units(before, content.units) if latest is not None else []
        cutoff = data_cutoff(conn)

        if send is send_message:  # no rendering when the mail could not go anyway
            check_connection(settings.smtp_conn_id)
        # the ranking files as published, then the bulletin that states the changes
        paths = write_ranking_files(ranking, settings.output_dir / "rankings")
        xlsx = next(p for p in paths if p.suffix == ".xlsx")
        bulletin = render_bulletin(
            target, code, month, settings.output_dir, revision=revision, changes=changes
        )  # <output>/bulletins/<scheme>_<YYYY-MM>[_r<n>].html|.pdf: each revision kept
        pdf_name, xlsx_name = attachment_names(ranking, revision)
        html = _name_attachment(bulletin.html, bulletin.pdf_path.name, pdf_name)
        attachments = [
            Attachment.from_path(bulletin.pdf_path, pdf_name),
            Attachment.from_path(xlsx, xlsx_name),
        ]
        sent_at = datetime.now(ZoneInfo(settings.timezone))
        message = build_message(
            sender=config.sender, recipients=recipients, subject=bulletin.subject,
            html=html, attachments=attachments, date=sent_at,
            headers=_headers(code, content, revision),
        )  # fmt: skip
        files = [a.record() for a in attachments]
        change_records = _change_records(before, content.units) if latest is not None else []
        addresses = [address_spec(r) for r in recipients]
        _record(conn, content, revision, cutoff, addresses, bulletin.subject, sent_at,
                str(message["Message-ID"]), files, change_records)  # fmt: skip
        sent = send(message, settings.smtp_conn_id)  # raises: the transaction rolls back
    return PublicationResult(
        scheme_code=code,
        scheme_version=content.scheme_version,
        month=month,
        revision=revision,
        status="sent",
        checksum=content.checksum,
        subject=bulletin.subject,
        recipients=sent.recipients,
        message_id=sent.message_id,
        files=tuple(files),
        changes=tuple(changes),
    )


def _headers(code: str, content: MonthContent, revision: int) -> dict[str, str]:
    """Machine-readable provenance of the message (ASCII; any mail client shows it)."""
    return {
        "X-Pingan-Publication": (
            f"scheme={code}; version={content.scheme_version}; month={content.month}; "
            f"revision={revision}; sha256={content.checksum}"
        )
    }


def _record(
    conn: psycopg.Connection,
    content: MonthContent,
    revision: int,
    cutoff: datetime | None,
    recipients: Sequence[str],
    subject: str,
    sent_at: datetime,
    message_id: str,
    files: list[dict[str, object]],
    changes: list[dict[str, Any]],
) -> None:
    conn.execute(
        """
        insert into publish.publications (scheme_code, scheme_version, month_start, revision,
            data_cutoff, recipients, checksum, subject, sent_at, message_id, files, changes)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            content.scheme_code, content.scheme_version, content.month.first_day, revision,
            cutoff, list(recipients), content.checksum, subject, sent_at, message_id,
            Jsonb(files), Jsonb(changes),
        ),
    )  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into publish.publication_units (scheme_code, month_start, revision,
                region_code, region_name, score, rank, grade)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (content.scheme_code, content.month.first_day, revision, u.region_code,
                 u.region_name, u.score, u.rank, u.grade)
                for u in content.units
            ],
        )  # fmt: skip
