"""Publish a month: drafted, signed off (签发) by a named person, mailed once per content,
every publication recorded.

For every scheme with a ranking in the month, :func:`draft_month`

1. reads the month's published content from the marts (``region_index_monthly`` and
   the item scores of ``region_index_items``) and its SHA-256 over a canonical
   serialisation (:func:`canonical_content`: fixed columns, rows in key order,
   decimals normalised; not the PDF, whose bytes change with every rendering);
2. if the latest revision recorded for (scheme, month) has the same checksum, drafts
   nothing: there is nothing new to sign;
3. otherwise renders revision latest + 1 (the differences against the previous
   revision, from the snapshot in ``publish.publication_units``; the ranking files;
   the bulletin, HTML and PDF) and records it in ``publish.drafts`` as ``awaiting``.

A person then approves or rejects each draft: in the monthly DAG through Airflow's
human-in-the-loop task ``sign_off`` (Required Actions, its REST API, or
``pingan publish approve|reject``). :func:`send_draft` mails an approved draft as it was
rendered, and only while the marts still hold its content; the publication row (with
its 签发人 and time), its snapshot and the draft's status commit only after the mail
server took the message, so a failed send records nothing. :func:`reject_draft` records
who sent it back and why; nothing is mailed.

:func:`review_revisions` reviews every month published earlier whose content changed
(late records, corrections) against the revision policy of the publishing file: a
material change is drafted as the month's next revision for an office to sign off
(``signoff_via = 'office'``: ``pingan publish approve``, :func:`decide_office_draft`);
an immaterial one is recorded and not mailed. Either way the review is recorded
(``publish.revision_reviews``), and a published month is never mailed again by itself.
:func:`publish_month` drafts and sends in one call, signed by the named person (the
tests' and a script's way).

Drafts and publications of one (scheme, month) are serialised by an advisory lock, so
two runs cannot both publish the same revision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from pingan_transforms.months import Month
from pingan_transforms.publish import archive
from pingan_transforms.publish.index_reader import keep_unit_rows, read_units
from pingan_transforms.publish.wording import revision_suffix
from pingan_transforms.settings import Settings
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from email.message import EmailMessage

    from pingan_transforms.publish.bulletin_data import Correction, RevisionChange
    from pingan_transforms.publish.config import RevisionPolicy
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
    signed_by: str | None = None

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
            "signed_by": self.signed_by,
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


ItemScores = dict[tuple[str, str], tuple[str | None, Decimal, Decimal | None]]
# (region_code, item_code) -> (item_name, item_score, metric_value)


def published_items(
    conn: psycopg.Connection, scheme_code: str, month: Month, revision: int
) -> ItemScores:
    """Each unit's item scores as a revision published them (``publish.publication_items``;
    empty for a revision recorded before items were kept)."""
    rows = conn.execute(
        "select region_code, item_code, item_name, item_score, metric_value "
        "from publish.publication_items "
        "where scheme_code = %s and month_start = %s and revision = %s",
        (scheme_code, month.first_day, revision),
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def current_items(conn: psycopg.Connection, scheme_code: str, month: Month) -> ItemScores:
    """Each unit's item scores as the marts hold them now."""
    rows = conn.execute(
        "select region_code, item_code, item_name, item_score, metric_value "
        "from marts.region_index_items where scheme_code = %s and month_start = %s",
        (scheme_code, month.first_day),
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def _number(value: Decimal | None) -> str:
    return NOT_PUBLISHED if value is None else format(Decimal(value).normalize(), "f")


def _change_records(
    before: Sequence[UnitSnapshot],
    after: Sequence[UnitSnapshot],
    items_before: ItemScores | None = None,
    items_after: ItemScores | None = None,
) -> list[dict[str, object]]:
    """The changes as the publication row keeps them (``publish.publications.changes``):
    per unit, in this revision's order, its score, rank and grade, then each item whose
    score moved (with its metric before and after: the reason behind the move)."""
    records: list[dict[str, object]] = []
    by_unit: dict[str, list[dict[str, object]]] = {}
    for code, c in _diff(before, after):
        entry = {"region_code": code, "region_name": c.region_name, "field": c.field,
                 "before": c.before, "after": c.after}  # fmt: skip
        by_unit.setdefault(code, []).append(entry)
    names = {u.region_code: u.region_name or u.region_code for u in [*before, *after]}
    items_before, items_after = items_before or {}, items_after or {}
    if items_before:  # a revision recorded before item scores were kept states units only
        for key in sorted(set(items_before) | set(items_after)):
            was, now = items_before.get(key), items_after.get(key)
            if was is not None and now is not None and was[1] == now[1]:
                continue
            code, item = key
            shown = now or was
            assert shown is not None
            by_unit.setdefault(code, []).append({
                "region_code": code, "region_name": names.get(code, code), "field": "item",
                "item_code": item, "item_name": shown[0] or item,
                "before": _shown_score(was), "after": _shown_score(now),
                "metric_before": _number(was[2]) if was else NOT_PUBLISHED,
                "metric_after": _number(now[2]) if now else NOT_PUBLISHED,
            })  # fmt: skip
    order = [*dict.fromkeys([*(u.region_code for u in after), *(u.region_code for u in before)])]
    for code in order:
        records.extend(by_unit.pop(code, []))
    for rest in by_unit.values():
        records.extend(rest)
    return records


def _shown_score(item: tuple[str | None, Decimal, Decimal | None] | None) -> str:
    return NOT_PUBLISHED if item is None else f"{item[1]:.2f}"


def data_cutoff(conn: psycopg.Connection) -> datetime | None:
    """When the newest data behind the marts was extracted (``raw._batches``)."""
    return conn.execute("select max(extracted_at) from raw._batches").fetchone()[0]


def data_loaded_to(conn: psycopg.Connection) -> datetime | None:
    """How far the database and API extracts behind the marts have read their sources:
    the latest window end of a batch that is neither a file drop nor the region master
    (those are stamped with the time they were loaded, not with a moment of the data)."""
    return conn.execute(
        "select max(b.window_end) from raw._batches as b where b.source <> 'regions' "
        "and not exists (select 1 from raw._files as f where f.batch_id = b.batch_id)"
    ).fetchone()[0]


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


def attachment_names(ranking: PublishedRanking, revision: int) -> tuple[str, str]:
    """The PDF's and the xlsx's file names as attached: ``2024年9月通州区平安指数通报.pdf``,
    ``2024年9月通州区平安指数排名.xlsx`` (``…（第1次修订）.pdf`` for the first revision)."""
    title, suffix = publication_title(ranking), revision_suffix(revision)
    return f"{title}通报{suffix}.pdf", f"{title}排名{suffix}.xlsx"


def _name_attachment(html: str, rendered: str, attached: str) -> str:
    """The body's 附件 line names the PDF as the mail attaches it, not as it is on disk."""
    from html import escape

    return html.replace(f"附件：{escape(rendered)}", f"附件：{escape(attached)}")


# ---------------------------------------------------------------------------
# Publishing: draft, sign off, mail
# ---------------------------------------------------------------------------

Sender = Callable[["EmailMessage", str], "Sent"]


@dataclass(frozen=True)
class Signature:
    """Who decided on a draft (签发人, or who sent it back), when, and why if rejected."""

    by: str
    at: datetime | None = None  # default: when it is recorded
    reason: str | None = None

    def __post_init__(self) -> None:
        if not self.by.strip():
            raise ValueError("a sign-off names the person who decides (签发人)")


@dataclass(frozen=True)
class Draft:
    """A publication rendered and waiting for sign-off (``publish.drafts``)."""

    draft_id: int
    scheme_code: str
    scheme_version: int
    month: Month
    revision: int
    checksum: str
    subject: str
    files: dict[str, str]  # html, pdf, xlsx, csv, json: paths as rendered
    changes: tuple[dict[str, Any], ...] = ()
    cutoff_at: datetime | None = None  # the month's data cutoff (config/publishing.yml)
    data_loaded_to: datetime | None = None  # how far the extracts had read the sources
    appeal_ids: tuple[int, ...] = ()  # the accepted appeals (申诉) it counts

    def summary(self) -> dict[str, object]:
        """JSON-serialisable (the task's XCom)."""
        return {
            "draft_id": self.draft_id,
            "scheme": self.scheme_code,
            "scheme_version": self.scheme_version,
            "month": str(self.month),
            "revision": self.revision,
            "checksum": self.checksum,
            "subject": self.subject,
            "files": dict(self.files),
            "changes": list(self.changes),
            "cutoff_at": self.cutoff_at.isoformat() if self.cutoff_at else None,
            "data_loaded_to": self.data_loaded_to.isoformat() if self.data_loaded_to else None,
            "appeal_ids": list(self.appeal_ids),
        }

    @property
    def after_cutoff(self) -> bool:
        """A first publication drafted from data read past its cutoff: it holds records
        or corrections that arrived later than the office's rule admits."""
        return (
            self.revision == 1
            and self.cutoff_at is not None
            and self.data_loaded_to is not None
            and self.data_loaded_to > self.cutoff_at
        )


def draft_month(
    target: WarehouseTarget,
    month: Month,
    settings: Settings,
    *,
    schemes: Sequence[str] | None = None,
    run_id: str | None = None,
    first_only: bool = False,
) -> list[Draft]:
    """A draft of every scheme ranked in the month (or of those in ``schemes``) whose
    content differs from its latest publication; unchanged ones need nothing. ``run_id``
    is the Airflow run that drafts them (its sign-off answers them). ``first_only``
    drafts only schemes not yet published for the month (the monthly run's way: a
    published month changes only by a revision the policy calls for,
    :func:`review_revisions`)."""
    from pingan_transforms.publish.config import publishing_config
    from pingan_transforms.publish.index_reader import published_schemes

    config = publishing_config(settings)
    with connect(target) as conn:
        ranked = published_schemes(conn, month)
        codes = [c for c in ranked if schemes is None or c in schemes]
        if first_only:
            codes = [c for c in codes if latest_publication(conn, c, month) is None]
    for code in codes:  # fail before anything is drafted if a scheme has nobody to go to
        config.recipients(code)
    drafts = [_draft_scheme(target, code, month, settings, run_id) for code in codes]
    return [d for d in drafts if d is not None]


@dataclass(frozen=True)
class Review:
    """A published month whose content changed, reviewed against the revision policy."""

    scheme_code: str
    month: Month
    published_revision: int
    material: bool
    reasons: dict[str, list[str]]  # region_code -> why its change is material
    changes: tuple[dict[str, Any], ...]
    draft: Draft | None  # the revision drafted for an office's sign-off (material only)

    def describe(self) -> str:
        what = (
            f"material ({len(self.reasons)} units): revision {self.draft.revision} drafted "
            f"as draft {self.draft.draft_id}, waiting for `pingan publish approve "
            f"{self.scheme_code} {self.month} --by NAME`"
            if self.draft is not None
            else "not material under the revision policy: recorded, not mailed"
        )
        since = f"changed since revision {self.published_revision}"
        return f"{self.scheme_code} {self.month} {since}: {what}"


def review_revisions(
    target: WarehouseTarget, settings: Settings, through: Month, run_id: str | None = None
) -> list[Review]:
    """Review every (scheme, month) published up to ``through`` (inclusive: a run of a
    published month is a review too) whose content differs from its latest revision.

    Each new content is reviewed once (``publish.revision_reviews``, by checksum): under
    the scheme's revision policy, a material change is drafted as the next revision for an
    office to sign off (``signoff_via = 'office'``), an immaterial one supersedes any such
    draft still waiting and is recorded only. Nothing is mailed here."""
    from pingan_transforms.publish.config import publishing_config

    config = publishing_config(settings)
    with connect(target) as conn:
        published = conn.execute(
            "select distinct month_start, scheme_code from publish.publications "
            "where month_start <= %s order by month_start, scheme_code",
            (through.first_day,),
        ).fetchall()
    reviews = []
    for start, code in published:
        month = Month.of(start)
        review = _review(target, settings, config.revision_policy(code), code, month, run_id)
        if review is not None:
            reviews.append(review)
    return reviews


def _review(
    target: WarehouseTarget,
    settings: Settings,
    policy: RevisionPolicy,
    code: str,
    month: Month,
    run_id: str | None,
) -> Review | None:
    from pingan_transforms.publish.appeals import appeals_to_count

    with connect(target) as conn:
        _lock(conn, code, month)
        content = read_content(conn, code, month)
        latest = latest_publication(conn, code, month)
        if content is None or latest is None:
            return None
        if latest.checksum == content.checksum:  # back as published: nothing to sign
            _supersede_office_drafts(conn, code, month)
            return None
        seen = conn.execute(
            "select 1 from publish.revision_reviews "
            "where scheme_code = %s and month_start = %s and checksum = %s",
            (code, month.first_day, content.checksum),
        ).fetchone()
        if seen:
            return None
        before = published_units(conn, code, month, latest.revision)
        reasons = policy.material(before, content.units)
        # an accepted appeal (申诉) is a decision owed to the unit: it is revised,
        # whatever the policy says of the size of the change
        for appeal in appeals_to_count(conn, code, month):
            for unit in filter(None, (appeal.region_code, appeal.move_to)):
                reasons.setdefault(unit, []).append(f"申诉第{appeal.appeal_id}号已采纳")
        changes = _change_records(
            before, content.units,
            published_items(conn, code, month, latest.revision), current_items(conn, code, month),
        )  # fmt: skip
        if not reasons:
            _supersede_office_drafts(conn, code, month)
    draft = (
        _draft_scheme(target, code, month, settings, run_id, signoff_via="office")
        if reasons
        else None
    )
    flagged = [{**c, "material": c["region_code"] in reasons} for c in changes]
    with connect(target) as conn:
        conn.execute(
            """
            insert into publish.revision_reviews (scheme_code, month_start, checksum,
                published_revision, material, policy, changes, draft_id, dag_run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (scheme_code, month_start, checksum) do nothing
            """,
            (code, month.first_day, content.checksum, latest.revision, bool(reasons),
             Jsonb({**policy.describe(), "reasons": reasons}), Jsonb(flagged),
             draft.draft_id if draft else None, run_id),
        )  # fmt: skip
    return Review(code, month, latest.revision, bool(reasons), reasons, tuple(changes), draft)


def pending_corrections(
    conn: psycopg.Connection, scheme_code: str, month: Month
) -> list[Correction]:
    """The changes to earlier published months of the scheme that its last review found
    immaterial since its last bulletin was sent: the next bulletin's 数据更正说明 (units'
    score, rank and grade; the items stay in marts.publication_revision_items)."""
    from pingan_transforms.publish.bulletin_data import Correction

    rows = conn.execute(
        """
        select month_start, material, changes from (
            select distinct on (month_start) month_start, material, changes
            from publish.revision_reviews
            where scheme_code = %s and month_start < %s
                and reviewed_at > coalesce(
                    (select max(sent_at) from publish.publications where scheme_code = %s),
                    '-infinity')
            order by month_start, reviewed_at desc
        ) as latest
        where not material
        order by month_start
        """,
        (scheme_code, month.first_day, scheme_code),
    ).fetchall()
    return [
        Correction(Month.of(start), change)
        for start, _, records in rows
        for change in _as_changes([r for r in records if r["field"] != "item"])
    ]


def _supersede_office_drafts(conn: psycopg.Connection, code: str, month: Month) -> None:
    """A revision waiting for an office no longer matches the marts: withdraw it."""
    conn.execute(
        "update publish.drafts set status = 'superseded' where scheme_code = %s "
        "and month_start = %s and status = 'awaiting' and signoff_via = 'office'",
        (code, month.first_day),
    )


def awaiting_draft(
    conn: psycopg.Connection, scheme_code: str, month: Month
) -> tuple[int, str] | None:
    """The draft of the scheme's month waiting for sign-off, and where it waits
    (``airflow``: a run's Required Actions; ``office``: ``pingan publish approve``)."""
    row = conn.execute(
        "select draft_id, signoff_via from publish.drafts where scheme_code = %s "
        "and month_start = %s and status = 'awaiting'",
        (scheme_code, month.first_day),
    ).fetchone()
    return (row[0], row[1]) if row else None


def decide_office_draft(
    target: WarehouseTarget,
    settings: Settings,
    draft_id: int,
    *,
    approve: bool,
    signature: Signature,
    send: Sender | None = None,
) -> PublicationResult | None:
    """Sign off (mail) or send back a revision drafted for an office's sign-off."""
    with connect(target) as conn:
        draft, status = read_draft(conn, draft_id)
        via = conn.execute(
            "select signoff_via from publish.drafts where draft_id = %s", (draft_id,)
        ).fetchone()[0]
    if via != "office" or status != "awaiting":
        raise DraftOutdated(f"draft {draft_id} is {status} and waits in {via}, not for an office")
    if not approve:
        if not (signature.reason or "").strip():
            raise ValueError("a draft sent back needs a reason: say what to correct")
        reject_draft(target, draft_id, signature)
        return None
    return send_draft(target, draft_id, signature, settings, send=send)


def _lock(conn: psycopg.Connection, code: str, month: Month) -> None:
    """Drafts and publications of one (scheme, month) one at a time."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"pingan.publish:{code}:{month}",))


def _draft_scheme(
    target: WarehouseTarget,
    code: str,
    month: Month,
    settings: Settings,
    run_id: str | None,
    signoff_via: Literal["airflow", "office"] = "airflow",
) -> Draft | None:
    from pingan_transforms.publish.appeals import appeals_to_count
    from pingan_transforms.publish.bulletin import render_bulletin
    from pingan_transforms.publish.config import publishing_config
    from pingan_transforms.publish.exports import read_published, write_ranking_files

    with connect(target) as conn:
        _lock(conn, code, month)
        content = read_content(conn, code, month)
        ranking = read_published(conn, code, month)
        if content is None or ranking is None:
            raise RuntimeError(f"no ranking of scheme {code!r} for {month} in the marts")
        latest = latest_publication(conn, code, month)
        if latest is not None and latest.checksum == content.checksum:
            return None
        revision = 1 if latest is None else latest.revision + 1
        before = () if latest is None else published_units(conn, code, month, latest.revision)
        records = (
            _change_records(
                before, content.units,
                published_items(conn, code, month, latest.revision),
                current_items(conn, code, month),
            )
            if latest is not None
            else []
        )  # fmt: skip
        # the ranking files as they would be published (a revision's beside the month's
        # first, which stays as it was mailed), then the bulletin stating the changes
        directory = settings.output_dir / "rankings"
        if revision > 1:
            directory = directory / "revisions" / f"r{revision}"
        paths = {p.suffix.lstrip("."): p for p in write_ranking_files(ranking, directory)}
        # the appeals decided (accepted) since the month was last published: the marts
        # built before this draft count them, the revision names them
        appeals = appeals_to_count(conn, code, month)
        bulletin = render_bulletin(
            target, code, month, settings.output_dir, revision=revision,
            changes=_as_changes(records),
            corrections=pending_corrections(conn, code, month) if revision == 1 else (),
            appeals=[a.describe() for a in appeals],
        )  # <output>/bulletins/<scheme>_<YYYY-MM>[_r<n>].html|.pdf: each revision kept  # fmt: skip
        files = {"html": str(bulletin.html_path), "pdf": str(bulletin.pdf_path),
                 **{kind: str(path) for kind, path in paths.items()}}  # fmt: skip
        conn.execute(
            "update publish.drafts set status = 'superseded' "
            "where scheme_code = %s and month_start = %s and status = 'awaiting'",
            (code, month.first_day),
        )
        cutoff_at = publishing_config(settings).cutoff_at(month, settings)
        loaded_to = data_loaded_to(conn)
        (draft_id,) = conn.execute(
            """
            insert into publish.drafts (scheme_code, scheme_version, month_start, revision,
                checksum, subject, files, changes, dag_run_id, signoff_via, cutoff_at,
                data_loaded_to, appeal_ids)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning draft_id
            """,
            (code, content.scheme_version, month.first_day, revision, content.checksum,
             bulletin.subject, Jsonb(files), Jsonb(records), run_id, signoff_via, cutoff_at,
             loaded_to, [a.appeal_id for a in appeals]),
        ).fetchone()  # fmt: skip
    return Draft(
        draft_id, code, content.scheme_version, month, revision, content.checksum,
        bulletin.subject, files, tuple(records), cutoff_at, loaded_to,
        tuple(a.appeal_id for a in appeals),
    )  # fmt: skip


_DRAFT_COLUMNS = (
    "draft_id, scheme_code, scheme_version, month_start, revision, checksum, subject, "
    "files, changes, cutoff_at, data_loaded_to, appeal_ids, status"
)


def _draft(row: Sequence[Any]) -> tuple[Draft, str]:
    *values, status = row
    values[3], values[8], values[11] = Month.of(values[3]), tuple(values[8]), tuple(values[11])
    return Draft(*values), status


def read_draft(conn: psycopg.Connection, draft_id: int) -> tuple[Draft, str]:
    """A recorded draft and its status."""
    row = conn.execute(
        f"select {_DRAFT_COLUMNS} from publish.drafts where draft_id = %s", (draft_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"no draft {draft_id} in publish.drafts")
    return _draft(row)


class DraftOutdated(RuntimeError):
    """The marts no longer hold what the draft showed: it cannot be mailed as signed."""


def reject_draft(target: WarehouseTarget, draft_id: int, signature: Signature) -> None:
    """Record that the draft was sent back, by whom and why; nothing is mailed."""
    with connect(target) as conn:
        conn.execute(
            "update publish.drafts set status = 'rejected', decided_by = %s, "
            "decided_at = coalesce(%s, now()), reason = %s "
            "where draft_id = %s and status = 'awaiting'",
            (signature.by, signature.at, signature.reason, draft_id),
        )


def send_draft(
    target: WarehouseTarget,
    draft_id: int,
    signature: Signature,
    settings: Settings,
    *,
    send: Sender | None = None,
) -> PublicationResult:
    """Mail a signed draft as it was rendered and record the publication with its 签发人.

    The draft is sent only if the marts still hold the content it showed (its checksum)
    and no other revision of the month went out since it was drafted; otherwise
    :class:`DraftOutdated` says to draft again. The publication row, its snapshot and the
    draft's status commit only after the mail server took the message."""
    from pingan_transforms.publish.appeals import appeals_to_count, mark_applied
    from pingan_transforms.publish.config import publishing_config
    from pingan_transforms.publish.mail import (
        Attachment,
        address_spec,
        build_message,
        check_connection,
        send_message,
    )

    send = send or send_message
    config = publishing_config(settings)
    with connect(target) as conn:  # one transaction: commits after the mail was taken
        draft, status = read_draft(conn, draft_id)
        code, month = draft.scheme_code, draft.month
        _lock(conn, code, month)
        recipients = config.recipients(code)
        content = read_content(conn, code, month)
        latest = latest_publication(conn, code, month)
        if status == "approved" and latest is not None and latest.checksum == draft.checksum:
            return PublicationResult(
                code, draft.scheme_version, month, latest.revision, "unchanged", draft.checksum
            )  # already sent: a retried task sends nothing twice
        if status != "awaiting":
            raise DraftOutdated(f"draft {draft_id} of {code} {month} is {status}, not awaiting")
        if (
            content is None
            or content.checksum != draft.checksum
            or ((0 if latest is None else latest.revision) != draft.revision - 1)
        ):
            raise DraftOutdated(
                f"the marts changed since draft {draft_id} of {code} {month} was rendered: "
                "run the month again to draft what they hold now, and sign that"
            )
        later = [a.appeal_id for a in appeals_to_count(conn, code, month)
                 if a.appeal_id not in draft.appeal_ids]  # fmt: skip
        if later:
            raise DraftOutdated(
                f"appeal {', '.join(map(str, later))} of {code} {month} was decided after draft "
                f"{draft_id} was rendered: run the month again so that it counts, and sign that"
            )
        if send is send_message:
            check_connection(settings.smtp_conn_id)
        from pingan_transforms.publish.exports import read_published

        ranking = read_published(conn, code, month)
        assert ranking is not None  # the content exists
        pdf_name, xlsx_name = attachment_names(ranking, draft.revision)
        files = {name: Path(path) for name, path in draft.files.items()}
        html = _name_attachment(
            files["html"].read_text(encoding="utf-8"), files["pdf"].name, pdf_name
        )
        attachments = [
            Attachment.from_path(files["pdf"], pdf_name),
            Attachment.from_path(files["xlsx"], xlsx_name),
        ]
        signed_at = signature.at or datetime.now(ZoneInfo(settings.timezone))
        sent_at = datetime.now(ZoneInfo(settings.timezone))
        message = build_message(
            sender=config.sender, recipients=recipients, subject=draft.subject,
            html=html, attachments=attachments, date=sent_at,
            headers=_headers(code, content, draft.revision),
        )  # fmt: skip
        records = [a.record() for a in attachments]
        addresses = [address_spec(r) for r in recipients]
        _record(conn, content, draft.revision, data_cutoff(conn), addresses, draft.subject,
                sent_at, str(message["Message-ID"]), records, list(draft.changes),
                signature.by, signed_at, draft)  # fmt: skip
        mark_applied(conn, list(draft.appeal_ids), draft.revision, signature.by)
        archive.keep(conn, code, month, draft.revision, draft.files, settings.output_dir)
        conn.execute(
            "update publish.drafts set status = 'approved', decided_by = %s, decided_at = %s "
            "where draft_id = %s",
            (signature.by, signed_at, draft_id),
        )
        sent = send(message, settings.smtp_conn_id)  # raises: the transaction rolls back
    with connect(target) as conn:  # the month's files are now this revision's
        archive.restore(conn, code, month, settings.output_dir)
    return PublicationResult(
        scheme_code=code,
        scheme_version=content.scheme_version,
        month=month,
        revision=draft.revision,
        status="sent",
        checksum=content.checksum,
        subject=draft.subject,
        recipients=sent.recipients,
        message_id=sent.message_id,
        files=tuple(records),
        changes=tuple(_as_changes(draft.changes)),
        signed_by=signature.by,
    )


def _as_changes(records: Sequence[dict[str, Any]]) -> list[RevisionChange]:
    """The bulletin's rows of 本次修订说明: a unit's score, rank or grade, and each item
    whose score moved, named with its metric before and after."""
    from pingan_transforms.publish.bulletin_data import RevisionChange

    return [
        RevisionChange(
            r["region_name"],
            _item_label(r) if r["field"] == "item" else r["field"],
            r["before"],
            r["after"],
        )  # fmt: skip
        for r in records
    ]


def _item_label(change: dict[str, Any]) -> str:
    """``刑事警情（指标值 36→41）``: the item, and the metric behind its move."""
    before, after = change.get("metric_before"), change.get("metric_after")
    if before in (None, NOT_PUBLISHED) and after in (None, NOT_PUBLISHED):
        return str(change["item_name"])
    return f"{change['item_name']}（指标值 {before}→{after}）"


def publish_month(
    target: WarehouseTarget,
    month: Month,
    settings: Settings,
    *,
    signed: Signature,
    schemes: Sequence[str] | None = None,
    send: Sender | None = None,
) -> list[PublicationResult]:
    """Draft every scheme ranked in the month and send each draft as signed by
    ``signed``: what the monthly DAG does with a human's answer in between, in one call
    (the CLI's and the tests' way). Unchanged content sends nothing."""
    with connect(target) as conn:
        from pingan_transforms.publish.index_reader import published_schemes

        ranked = [c for c in published_schemes(conn, month) if schemes is None or c in schemes]
    drafts = {d.scheme_code: d for d in draft_month(target, month, settings, schemes=ranked)}
    results = []
    for code in ranked:
        if code in drafts:
            results.append(send_draft(target, drafts[code].draft_id, signed, settings, send=send))
        else:
            results.append(_unchanged(target, code, month))
    return results


def _unchanged(target: WarehouseTarget, code: str, month: Month) -> PublicationResult:
    with connect(target) as conn:
        latest = latest_publication(conn, code, month)
        content = read_content(conn, code, month)
    assert latest is not None and content is not None
    return PublicationResult(
        code, content.scheme_version, month, latest.revision, "unchanged", latest.checksum
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
    signed_by: str,
    signed_at: datetime,
    draft: Draft,
) -> None:
    conn.execute(
        """
        insert into publish.publications (scheme_code, scheme_version, month_start, revision,
            data_cutoff, recipients, checksum, subject, sent_at, message_id, files, changes,
            signed_by, signed_at, cutoff_at, data_loaded_to)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            content.scheme_code, content.scheme_version, content.month.first_day, revision,
            cutoff, list(recipients), content.checksum, subject, sent_at, message_id,
            Jsonb(files), Jsonb(changes), signed_by, signed_at,
            draft.cutoff_at, draft.data_loaded_to,
        ),
    )  # fmt: skip
    key = (revision, content.scheme_code, content.month.first_day)
    conn.execute(
        """
        insert into publish.publication_items (scheme_code, month_start, revision,
            region_code, item_code, item_name, item_score, metric_value, row)
        select scheme_code, month_start, %s, region_code, item_code, item_name, item_score,
            metric_value, to_jsonb(i)
        from marts.region_index_items as i
        where scheme_code = %s and month_start = %s
        """,
        key,
    )
    conn.execute(
        """
        insert into publish.publication_categories (scheme_code, month_start, revision,
            region_code, category_code, row)
        select scheme_code, month_start, %s, region_code, category_code, to_jsonb(c)
        from marts.region_index_categories as c
        where scheme_code = %s and month_start = %s
        """,
        key,
    )
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
    keep_unit_rows(conn, content.scheme_code, content.month, revision)
