"""Publications (publish/publications.py, mail.py, config.py, simulate/mailbox.py): the
bulletin mailed through a real SMTP server (aiosmtpd on 127.0.0.1), Chinese intact in
subject, body and file names, attachments that open, one publication per content, a
revision with its differences after a late correction, nothing recorded when sending
fails. Marts tables are created here from the dbt contracts (no dbt run for them)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import smtplib
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import yaml

from pingan_simulate.mailbox import mail_catcher, subject_slug
from pingan_transforms.months import Month
from pingan_transforms.publish import exports, mail, publications
from pingan_transforms.publish.config import load_publishing
from pingan_transforms.settings import ConfigError, get_settings
from pingan_transforms.warehouse import connect
from tests.helpers import PROJECT

AUG, SEP = Month(2024, 8), Month(2024, 9)
SIGNED = publications.Signature(by="王五")
SENDER = "平安指数通报 <pingan-bulletin@example.gov.cn>"
MAJUQIAO_TO = ["通州区委政法委 <tzzfw@example.gov.cn>", "zhzx@example.gov.cn"]
XIAOLAN_TO = ["小榄镇综治中心 <xl-zzzx@example.gov.cn>"]
PDF_NAME = "2024年9月通州区平安指数通报.pdf"
XLSX_NAME = "2024年9月通州区平安指数排名.xlsx"
CUTOFF = datetime(2024, 10, 1, 2, 30, tzinfo=UTC)
RFC2231_NAME = re.compile(rb"filename\*(?:0\*)?=utf-8''2024%E5%B9%B49%E6%9C%88")

# --- marts from the dbt contracts ----------------------------------------------------


def contract_ddl() -> str:
    """``create table marts.<model>`` for every contracted mart model that is a table,
    with the contract's columns and types: whatever the bulletin reads exists."""
    statements = []
    for path in sorted((PROJECT / "dbt_project" / "models" / "marts").glob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            sql = (path.parent / f"{model['name']}.sql").read_text(encoding="utf-8")
            if "materialized='view'" in sql.replace('"', "'").replace(" ", ""):
                continue
            columns = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in model["columns"])
            statements.append(f"create table marts.{model['name']} ({columns});")
    return "\n".join(statements)


# (code, name, score, grade, colour, stars, warning, rank, previous rank, previous score)
TOWNS = {
    SEP: [
        ("110112209", "于家务回族乡", "91.20", "优秀", "#1a9850", 5, "green", 1, 2, "88.00"),
        ("110112114", "台湖镇", "85.00", "良好", "#91cf60", 4, "green", 2, 1, "89.00"),
        ("110112110", "西集镇", "80.50", "良好", "#91cf60", 3, "yellow", 3, 4, "70.00"),
        ("110112115", "马驹桥镇", "72.25", "一般", "#fee08b", 2, "yellow", 4, 3, "75.00"),
    ],
    AUG: [
        ("110112209", "于家务回族乡", "88.00", "优秀", "#1a9850", 5, "green", 2, None, None),
        ("110112114", "台湖镇", "89.00", "优秀", "#1a9850", 5, "green", 1, None, None),
        ("110112110", "西集镇", "70.00", "一般", "#fee08b", 2, "yellow", 4, None, None),
        ("110112115", "马驹桥镇", "75.00", "一般", "#fee08b", 3, "yellow", 3, None, None),
    ],
}
COMMUNITIES = [
    ("442000118001", "沙口社区", "88.00", "A", "#1a9850", 5, None, 1, None, None),
    ("442000118002", "竹源社区", "79.50", "B", "#fee08b", 3, None, 2, None, None),
]
CATEGORIES = (("A", "社会治安", Decimal("60")), ("B", "群众安全感", Decimal("40")))


def _monthly_row(scheme: str, month: Month, unit: tuple, village: bool) -> dict:
    code, name, score, grade, colour, stars, warning, rank, prev_rank, prev_score = unit
    return {
        "scheme_code": scheme, "scheme_name": "小榄" if village else "马驹桥",
        "scheme_version": 1 if village else 2,
        "total_label": "平安形势指数" if village else "平安指数",
        "month_start": month.first_day, "region_code": code, "region_name": name,
        "region_level": "village" if village else "township",
        "peer_group_code": "442000118" if village else "110112",
        "peer_group_name": "小榄镇" if village else "通州区",
        "score": Decimal(score), "tree_score": Decimal(score), "adjustment_points": 0,
        "cap_adjustment": 0, "grade": grade, "grade_colour": colour, "stars": stars,
        "warning_level": warning, "consecutive_reds": 0, "escalated": False,
        "veto_fired": False, "rank_in_peer_group": rank, "units_ranked": 4 if not village else 2,
        "previous_rank": prev_rank,
        "rank_change": None if prev_rank is None else prev_rank - rank,
        "previous_score": None if prev_score is None else Decimal(prev_score),
        "score_change_pct": None if prev_score is None
        else round((Decimal(score) - Decimal(prev_score)) * 100 / Decimal(prev_score), 2),
        "previous_restated": False,
    }  # fmt: skip


def _split(score: Decimal) -> dict[str, Decimal]:
    """Category A gets 60 % of the score, B the rest: items add up to the total."""
    a = (score * Decimal("0.6")).quantize(Decimal("0.01"))
    return {"A": a, "B": score - a}


def _insert(conn, table: str, row: dict) -> None:
    columns = ", ".join(f'"{c}"' for c in row)
    conn.execute(
        f"insert into marts.{table} ({columns}) values ({', '.join(['%s'] * len(row))})",
        list(row.values()),
    )


def fill_marts(conn) -> None:
    conn.execute(contract_ddl())
    units = [("majuqiao", m, u, False) for m in (AUG, SEP) for u in TOWNS[m]]
    units += [("xiaolan", SEP, u, True) for u in COMMUNITIES]
    for scheme, month, unit, village in units:
        row = _monthly_row(scheme, month, unit, village)
        _insert(conn, "region_index_monthly", row)
        for sort_order, (cat, cat_name, points) in enumerate(CATEGORIES, start=1):
            share = _split(row["score"])[cat]
            common = {
                "scheme_code": scheme,
                "scheme_version": row["scheme_version"],
                "month_start": month.first_day,
                "region_code": row["region_code"],
            }
            _insert(conn, "region_index_categories", {
                **common, "category_code": cat, "category_name": cat_name,
                "category_points": points, "sort_order": sort_order, "category_score": share,
            })  # fmt: skip
            _insert(conn, "region_index_items", {
                **common, "category_code": cat, "category_name": cat_name,
                "indicator_code": f"{cat}1", "indicator_name": f"{cat_name}指标",
                "item_code": f"{cat}1a", "item_name": f"{cat_name}得分项", "sort_order": 1,
                "rule": "deduct_per_unit", "is_adjustment": False, "points": points,
                "item_score": share,
            })  # fmt: skip
    conn.execute(
        "insert into raw._batches (batch_id, source, entity, window_end, row_count, "
        "extracted_at) values ('police.incidents.x', 'police', 'incidents', %s, 10, %s)",
        (CUTOFF, CUTOFF),
    )


def correct_score(conn, code: str, score: str, rank: int, grade: str) -> None:
    """A late correction: the unit's total, item scores, rank and grade change."""
    value = Decimal(score)
    conn.execute(
        "update marts.region_index_monthly set score = %s, tree_score = %s, "
        "rank_in_peer_group = %s, grade = %s where scheme_code = 'majuqiao' "
        "and month_start = %s and region_code = %s",
        (value, value, rank, grade, SEP.first_day, code),
    )
    for cat, share in _split(value).items():
        for table, column in (("region_index_items", "item_score"),
                              ("region_index_categories", "category_score")):  # fmt: skip
            conn.execute(
                f"update marts.{table} set {column} = %s where scheme_code = 'majuqiao' "
                "and month_start = %s and region_code = %s and category_code = %s",
                (share, SEP.first_day, code, cat),
            )


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def publishing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "publishing.yml"
    document = {
        "sender": SENDER,
        "default_recipients": ["fallback@example.gov.cn"],
        "schemes": {"majuqiao": {"recipients": MAJUQIAO_TO},
                    "xiaolan": {"recipients": XIAOLAN_TO}},
    }  # fmt: skip
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PINGAN_PUBLISHING_FILE", str(path))
    return path


@pytest.fixture
def warehouse(databases, publishing_file):
    target, _ = databases
    with connect(target) as conn:
        fill_marts(conn)
    return target


@pytest.fixture
def mailbox(tmp_path: Path):
    with mail_catcher(tmp_path / "mail") as box:
        yield box


def _publications(target) -> list[tuple]:
    with connect(target) as conn:
        return conn.execute(
            "select scheme_code, scheme_version, month_start, revision, data_cutoff, recipients, "
            "checksum, subject, message_id, files, changes from publish.publications "
            "order by scheme_code, revision"
        ).fetchall()


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _by_scheme(mailbox) -> dict[str, list]:
    found: dict[str, list] = {}
    for received in mailbox.received:
        header = received.message()["X-Pingan-Publication"]
        scheme = dict(p.strip().split("=", 1) for p in str(header).split(";"))["scheme"]
        found.setdefault(scheme, []).append(received)
    return found


# --- the publication, end to end ---------------------------------------------------------


def test_bulletin_arrives_with_chinese_intact_and_attachments_that_open(warehouse, mailbox) -> None:
    results = publications.publish_month(warehouse, SEP, get_settings(), signed=SIGNED)

    assert [(r.scheme_code, r.status, r.revision) for r in results] == [
        ("majuqiao", "sent", 1),
        ("xiaolan", "sent", 1),
    ]
    sent = _by_scheme(mailbox)
    assert sorted(sent) == ["majuqiao", "xiaolan"] and len(mailbox.received) == 2
    received = sent["majuqiao"][0]
    assert sorted(received.rcpt_tos) == ["tzzfw@example.gov.cn", "zhzx@example.gov.cn"]
    assert sent["xiaolan"][0].rcpt_tos == ("xl-zzzx@example.gov.cn",)

    # on the wire: 7-bit, the subject an RFC 2047 encoded word, file names RFC 2231
    raw = received.content
    assert max(raw) < 128, "the message must be 7-bit clean"
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "Subject: =?utf-8?" in head
    assert "From: =?utf-8?" in head  # the sender's display name is Chinese too
    # 2024年9月…, percent-encoded UTF-8 (in continuations *0*, *1* … when long)
    assert len(RFC2231_NAME.findall(raw)) == 2

    # decoded: subject, sender, body and file names read as written
    message = message_from_bytes(raw, policy=default_policy)
    result = results[0]
    assert str(message["Subject"]) == result.subject
    assert "2024年9月" in result.subject and "通州区" in result.subject
    assert message["From"].addresses[0].display_name == "平安指数通报"
    assert str(message["Message-ID"]) == result.message_id
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    for town in ("于家务回族乡", "台湖镇", "西集镇", "马驹桥镇"):
        assert town in html.get_content() and town in plain.get_content()
    assert re.search(r"</?(p|td|tr|div|table|style|body)\b", plain.get_content()) is None

    files = _attachments(message)
    assert list(files) == [PDF_NAME, XLSX_NAME]
    assert f"附件：{PDF_NAME}" in html.get_content()  # the body names the PDF as attached
    book = openpyxl.load_workbook(io.BytesIO(files[XLSX_NAME]))
    assert book.sheetnames == ["乡镇街道排名", "社会治安", "群众安全感", "乡镇街道扣分明细", "说明"]
    rows = list(book["乡镇街道排名"].iter_rows(values_only=True))
    assert [r[:3] for r in rows[1:]] == [(t[7], t[1], t[0]) for t in TOWNS[SEP]]
    assert rows[1][4] == pytest.approx(91.2)
    text = _pdf_text(files[PDF_NAME])
    for town in ("于家务回族乡", "台湖镇", "西集镇", "马驹桥镇"):
        assert town in text, f"{town} not in the PDF's text"
    village_files = _attachments(sent["xiaolan"][0].message())
    assert list(village_files) == [
        "2024年9月小榄镇平安形势指数通报.pdf",
        "2024年9月小榄镇平安形势指数排名.xlsx",
    ]
    assert "沙口社区" in _pdf_text(village_files["2024年9月小榄镇平安形势指数通报.pdf"])

    # the catcher kept it as an .eml named by time and subject
    assert received.path.parent == mailbox.folder and received.path.suffix == ".eml"
    assert received.path.read_bytes() == raw
    assert subject_slug(result.subject) in received.path.name

    # recorded: version, cut-off, recipients, the content's checksum, the files' hashes
    rows = _publications(warehouse)
    assert [(r[0], r[1], r[3]) for r in rows] == [("majuqiao", 2, 1), ("xiaolan", 1, 1)]
    row = rows[0]
    assert row[2] == SEP.first_day and row[4] == CUTOFF
    assert row[5] == ["tzzfw@example.gov.cn", "zhzx@example.gov.cn"]
    assert row[6] == result.checksum and len(row[6]) == 64
    assert row[7] == result.subject and row[8] == result.message_id
    assert [(f["name"], f["sha256"]) for f in row[9]] == [
        (name, hashlib.sha256(data).hexdigest()) for name, data in files.items()
    ]
    assert row[10] == []


def test_unchanged_republish_sends_nothing(warehouse, mailbox) -> None:
    settings = get_settings()
    first = publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    assert len(mailbox.received) == 2

    again = publications.publish_month(warehouse, SEP, settings, signed=SIGNED)

    assert [(r.scheme_code, r.status, r.revision) for r in again] == [
        ("majuqiao", "unchanged", 1),
        ("xiaolan", "unchanged", 1),
    ]
    assert [r.checksum for r in again] == [r.checksum for r in first]
    assert len(mailbox.received) == 2, "an unchanged month must not be mailed again"
    assert len(_publications(warehouse)) == 2


def test_late_correction_is_published_as_revision_2_stating_the_differences(
    warehouse, mailbox
) -> None:
    settings = get_settings()
    publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    with connect(warehouse) as conn:  # 西集镇 is corrected up past 台湖镇: 80.50 → 86.00
        correct_score(conn, "110112110", "86.00", rank=2, grade="优秀")
        conn.execute(
            "update marts.region_index_monthly set rank_in_peer_group = 3 "
            "where scheme_code = 'majuqiao' and month_start = %s and region_code = '110112114'",
            (SEP.first_day,),
        )

    results = publications.publish_month(warehouse, SEP, settings, signed=SIGNED)

    statuses = {r.scheme_code: (r.status, r.revision) for r in results}
    assert statuses == {"majuqiao": ("sent", 2), "xiaolan": ("unchanged", 1)}
    revision = results[0]
    # each unit's score, rank and grade, then the items whose score moved (60 % / 40 %)
    assert [(c.region_name, c.field, c.before, c.after) for c in revision.changes] == [
        ("西集镇", "score", "80.50", "86.00"),
        ("西集镇", "rank", "3", "2"),
        ("西集镇", "grade", "良好", "优秀"),
        ("西集镇", "社会治安得分项", "48.30", "51.60"),
        ("西集镇", "群众安全感得分项", "32.20", "34.40"),
        ("台湖镇", "rank", "2", "3"),
    ]
    # the revision's mail states the differences and says it is a correction
    sent = _by_scheme(mailbox)["majuqiao"]
    assert len(sent) == 2
    message = sent[1].message()
    assert "revision=2" in str(message["X-Pingan-Publication"])
    assert str(message["Subject"]) == revision.subject != sent[0].message()["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    plain = message.get_body(preferencelist=("plain",)).get_content()
    for text in (html, plain):
        assert "西集镇" in text and "80.50" in text and "86.00" in text
    files = _attachments(message)
    assert list(files) == [
        "2024年9月通州区平安指数通报（第1次修订）.pdf",
        "2024年9月通州区平安指数排名（第1次修订）.xlsx",
    ]
    pdf = _pdf_text(files["2024年9月通州区平安指数通报（第1次修订）.pdf"])
    assert "80.50" in pdf and "86.00" in pdf
    book = openpyxl.load_workbook(
        io.BytesIO(files["2024年9月通州区平安指数排名（第1次修订）.xlsx"])
    )
    corrected = [r for r in book["乡镇街道排名"].iter_rows(values_only=True) if r[1] == "西集镇"]
    assert corrected[0][0] == 2 and corrected[0][4] == pytest.approx(86.0)

    # the publication row records the revision and its differences
    rows = [r for r in _publications(warehouse) if r[0] == "majuqiao"]
    assert [r[3] for r in rows] == [1, 2] and rows[0][6] != rows[1][6]
    assert {"region_code": "110112110", "region_name": "西集镇", "field": "score",
            "before": "80.50", "after": "86.00"} in rows[1][10]  # fmt: skip
    assert {"region_code": "110112110", "region_name": "西集镇", "field": "item",
            "item_code": "A1a", "item_name": "社会治安得分项", "before": "48.30",
            "after": "51.60", "metric_before": "—", "metric_after": "—"} in rows[1][10]  # fmt: skip
    assert len(rows[1][10]) == 6
    with connect(warehouse) as conn:
        snapshot = conn.execute(
            "select revision, score, rank, grade from publish.publication_units "
            "where scheme_code = 'majuqiao' and region_code = '110112110' order by revision"
        ).fetchall()
    assert snapshot == [(1, Decimal("80.50"), 3, "良好"), (2, Decimal("86.00"), 2, "优秀")]

    # a third run with nothing new sends nothing more
    assert {
        r.status for r in publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    } == {"unchanged"}
    assert len(mailbox.received) == 3


def test_marts_publications_shows_every_revision_and_the_latest(warehouse, mailbox) -> None:
    from pingan_transforms.transform import run_dbt

    settings = get_settings()
    publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    with connect(warehouse) as conn:
        correct_score(conn, "110112115", "60.00", rank=4, grade="较差")
    publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    run_dbt(["build", "--select", "stg_publish__publications", "publications"], warehouse)
    with connect(warehouse) as conn:
        rows = conn.execute(
            "select scheme_code, revision, is_latest, recipient_count, attachment_count, "
            "change_count, units_changed, data_cutoff from marts.publications "
            "order by scheme_code, revision"
        ).fetchall()
    assert rows == [
        ("majuqiao", 1, False, 2, 2, 0, 0, CUTOFF),
        ("majuqiao", 2, True, 2, 2, 4, 1, CUTOFF),  # 马驹桥镇: score, grade, two items
        ("xiaolan", 1, True, 1, 2, 0, 0, CUTOFF),
    ]


def test_a_failed_send_records_nothing_and_the_next_run_sends_the_same_revision(
    warehouse, tmp_path, monkeypatch
) -> None:
    from pingan_simulate.mailbox import free_port

    settings = get_settings()
    closed = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": free_port(),
                         "extra": {"disable_ssl": True, "disable_tls": True,
                                   "retry_limit": 0, "timeout": 5}})  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_PINGAN_SMTP", closed)
    with pytest.raises(mail.MailError, match="cannot reach the mail server"):
        publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    assert _publications(warehouse) == []
    with connect(warehouse) as conn:
        assert conn.execute("select count(*) from publish.publication_units").fetchone() == (0,)

    with mail_catcher(tmp_path / "mail") as box:
        results = publications.publish_month(warehouse, SEP, settings, signed=SIGNED)
    assert [(r.status, r.revision) for r in results] == [("sent", 1), ("sent", 1)]
    assert len(box.received) == 2


def test_a_refused_recipient_fails_the_publication_and_names_the_address(
    warehouse, tmp_path
) -> None:
    class RefuseOne:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            if address.startswith("zhzx@"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "250 OK"

    from aiosmtpd.controller import Controller

    from pingan_simulate.mailbox import free_port

    port = free_port()
    controller = Controller(RefuseOne(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        conn_json = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                                "extra": {"disable_ssl": True, "disable_tls": True}})  # fmt: skip
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AIRFLOW_CONN_PINGAN_SMTP", conn_json)
            with pytest.raises(mail.MailError, match=r"zhzx@example\.gov\.cn: 550"):
                publications.publish_month(warehouse, SEP, get_settings(), signed=SIGNED)
    finally:
        controller.stop()
    assert _publications(warehouse) == []


RUN = "manual__2024-10-01T00:00:00+00:00"  # the Airflow run that drafts


def _drafts(warehouse, requests: list[dict]) -> list:
    """The drafts the sign-off requests ask about, in their order."""
    from pingan_transforms.publish.signoff import draft_id_of

    with connect(warehouse) as conn:
        return [publications.read_draft(conn, draft_id_of(r["subject"]))[0] for r in requests]


def _answer(option: str, signer: str = "张三", reason: str = "") -> dict:
    """What the sign_off task returns (HITLOperator.execute_complete)."""
    return {
        "chosen_options": [option],
        "params_input": {"signer": signer, "reason": reason},
        "responded_at": "2024-10-03T09:30:00+08:00",
        "responded_by_user": {"id": "admin", "name": "admin"},
    }


def test_drafted_bulletins_are_mailed_once_signed_and_record_their_signer(
    warehouse, mailbox
) -> None:
    from pingan_transforms.publish.signoff import APPROVE, subject_tag
    from pingan_transforms.tasks import draft_bulletins, publish_bulletin

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    requests = draft_bulletins(start, RUN)
    json.dumps(requests)  # an XCom
    drafts = _drafts(warehouse, requests)
    assert [(d.scheme_code, d.revision) for d in drafts] == [("majuqiao", 1), ("xiaolan", 1)]
    # the question asked in Airflow: tagged subject, headline figures, draft files
    request = requests[0]
    assert request["subject"].startswith(subject_tag("majuqiao", SEP, 1))
    assert "参评单位：4 个" in request["body"] and "第一名" in request["body"]
    assert drafts[0].files["pdf"] in request["body"]
    # the month's data cutoff, and how far the sources behind the draft were read
    assert "考核截止：2024-10-03 24:00；源数据读取至 2024-10-01 10:30" in request["body"]
    assert "注意" not in request["body"] and not drafts[0].after_cutoff
    assert mailbox.received == []  # nothing goes out before it is signed

    summary = publish_bulletin(start, requests, [_answer(APPROVE)] * 2)
    assert [(p["scheme"], p["status"], p["revision"], p["signed_by"])
            for p in summary["publications"]] == [
        ("majuqiao", "sent", 1, "张三"),
        ("xiaolan", "sent", 1, "张三"),
    ]  # fmt: skip
    assert summary["publications"][0]["files"] == [PDF_NAME, XLSX_NAME]
    json.dumps(summary)  # an XCom
    with connect(warehouse) as conn:
        signed = conn.execute(
            "select signed_by, signed_at from publish.publications order by scheme_code"
        ).fetchall()
        drafts = conn.execute("select status, decided_by from publish.drafts").fetchall()
        cutoffs = conn.execute(
            "select distinct cutoff_at, data_loaded_to from publish.publications"
        ).fetchall()
    assert [by for by, _ in signed] == ["张三", "张三"]
    assert signed[0][1] == datetime(2024, 10, 3, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert drafts == [("approved", "张三"), ("approved", "张三")]
    assert cutoffs == [(datetime(2024, 10, 4, tzinfo=ZoneInfo("Asia/Shanghai")), CUTOFF)]
    # the same month again: nothing new to sign, nothing mailed
    assert draft_bulletins(start, "manual__again") == []
    assert publish_bulletin(start, [], None)["publications"] == []
    # a retry of the task (say, after the mail server refused the second bulletin) sends
    # nothing twice: what went out is unchanged
    again = publish_bulletin(start, requests, [_answer(APPROVE)] * 2)
    assert [p["status"] for p in again["publications"]] == ["unchanged", "unchanged"]
    assert len(mailbox.received) == 2


def test_a_first_draft_read_past_its_cutoff_says_so_to_the_signer(warehouse, mailbox) -> None:
    from pingan_transforms.tasks import draft_bulletins

    with connect(warehouse) as conn:  # an extract read the sources to Oct 6, past Oct 3 24:00
        conn.execute(
            "insert into raw._batches (batch_id, source, entity, window_end, row_count) "
            "values ('police.incidents.late', 'police', 'incidents', %s, 3)",
            (datetime(2024, 10, 6, tzinfo=ZoneInfo("Asia/Shanghai")),),
        )
    requests = draft_bulletins(datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai")), RUN)
    body = requests[0]["body"]
    assert "考核截止：2024-10-03 24:00；源数据读取至 2024-10-05 24:00" in body
    assert "本稿为首次发布，所用数据读取至考核截止之后" in body
    assert all(d.after_cutoff for d in _drafts(warehouse, requests))


def test_a_draft_sent_back_is_not_mailed_and_keeps_the_reason(warehouse, mailbox) -> None:
    from pingan_transforms.publish.signoff import APPROVE, REJECT, draft_statuses, subject_tag
    from pingan_transforms.tasks import draft_bulletins, publish_bulletin

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    requests = draft_bulletins(start, RUN)
    answers = [_answer(REJECT, "李四", "马驹桥镇的火灾数待消防核实"), _answer(APPROVE)]
    summary = publish_bulletin(start, requests, answers)
    assert [p["scheme"] for p in summary["publications"]] == ["xiaolan"]
    (rejected,) = summary["rejected"]
    assert rejected["subject"].startswith(subject_tag("majuqiao", SEP, 1))
    assert (rejected["rejected_by"], rejected["reason"]) == ("李四", "马驹桥镇的火灾数待消防核实")
    assert len(mailbox.received) == 1
    with connect(warehouse) as conn:
        statuses = {(d.scheme_code, d.status, d.reason) for d in draft_statuses(conn)}
        assert _publications(warehouse)[0][0] == "xiaolan"
    assert statuses == {
        ("majuqiao", "rejected", "马驹桥镇的火灾数待消防核实"),
        ("xiaolan", "approved", None),
    }
    # the next run drafts majuqiao again: it was never published
    (again,) = draft_bulletins(start, "manual__again")
    assert again["subject"].startswith(subject_tag("majuqiao", SEP, 1))


def test_a_draft_whose_content_changed_before_signing_is_not_sent(warehouse, mailbox) -> None:
    from pingan_transforms.publish.signoff import APPROVE
    from pingan_transforms.tasks import draft_bulletins, publish_bulletin

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    requests = draft_bulletins(start, RUN)
    with connect(warehouse) as conn:  # the marts were rebuilt while the draft waited
        conn.execute(
            "update marts.region_index_monthly set score = 70.00 where scheme_code = 'majuqiao' "
            "and month_start = %s and region_code = '110112115'",
            (SEP.first_day,),
        )
    with pytest.raises(publications.DraftOutdated, match="run the month again"):
        publish_bulletin(start, requests[:1], [_answer(APPROVE)])
    assert mailbox.received == [] and _publications(warehouse) == []


def _correct_august(conn, score: str, metric: int) -> None:
    """A late correction of August's 马驹桥镇 (published at 75.00): its score, and the
    social-order item with the metric behind it."""
    conn.execute(
        "update marts.region_index_monthly set score = %s where scheme_code = 'majuqiao' "
        "and month_start = %s and region_code = '110112115'",
        (Decimal(score), AUG.first_day),
    )
    conn.execute(
        "update marts.region_index_items set item_score = %s, metric_value = %s "
        "where scheme_code = 'majuqiao' and month_start = %s and region_code = '110112115' "
        "and category_code = 'A'",
        (Decimal(score) - Decimal("30.00"), metric, AUG.first_day),
    )


def _reviews(warehouse) -> list[tuple]:
    with connect(warehouse) as conn:
        return conn.execute(
            "select month_start, published_revision, material, draft_id, changes "
            "from publish.revision_reviews order by reviewed_at"
        ).fetchall()


def test_a_material_correction_of_a_published_month_waits_for_an_office_then_mails_revision_1(
    warehouse, mailbox, capsys, monkeypatch
) -> None:
    from pingan_transforms.cli import main
    from pingan_transforms.tasks import draft_bulletins

    settings = get_settings()
    with connect(warehouse) as conn:  # the metric behind the item (the fixture has none)
        conn.execute(
            "update marts.region_index_items set metric_value = 36 where scheme_code = "
            "'majuqiao' and month_start = %s and category_code = 'A'",
            (AUG.first_day,),
        )
    publications.publish_month(warehouse, AUG, settings, signed=SIGNED)
    assert len(mailbox.received) == 1  # August: only majuqiao was ranked
    rankings = settings.output_dir / "rankings"
    mailed = {p.name: p.read_bytes() for p in rankings.glob("majuqiao_2024-08.*")}
    assert sorted(mailed) == ["majuqiao_2024-08.csv", "majuqiao_2024-08.json",
                              "majuqiao_2024-08.xlsx"]  # fmt: skip
    with connect(warehouse) as conn:  # late corrections arrive with September's run
        _correct_august(conn, "77.00", 41)  # 2 points: material under the shipped policy

    # a run of August now writes August's files as they were mailed, not the new numbers,
    # even when the output folder was lost
    for _ in range(2):
        written = exports.export_month(warehouse, AUG, settings.output_dir)
        assert {p.name: p.read_bytes() for p in written} == mailed
        shutil.rmtree(settings.output_dir)

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    requests = draft_bulletins(start, RUN)
    # the run asks only about September's first bulletins; August is not mailed by itself
    assert [(str(d.month), d.scheme_code, d.revision) for d in _drafts(warehouse, requests)] == [
        ("2024-09", "majuqiao", 1),
        ("2024-09", "xiaolan", 1),
    ]
    assert len(mailbox.received) == 1
    ((month, published, material, draft_id, changes),) = _reviews(warehouse)
    assert (month, published, material) == (AUG.first_day, 1, True) and draft_id
    assert [(c["field"], c["before"], c["after"], c["material"]) for c in changes] == [
        ("score", "75.00", "77.00", True),
        ("item", "45.00", "47.00", True),
    ]
    assert (changes[1]["metric_before"], changes[1]["metric_after"]) == ("36", "41")
    # the same content is reviewed once: another run drafts no second revision
    draft_bulletins(start, "manual__again")
    assert len(_reviews(warehouse)) == 1
    assert main(["publish", "status"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "2024-08  r2" in x]
    assert f"{draft_id:>5}" in line and "r2  awaiting   office" in line

    # without a mail server nothing is signed, and the message says what to do
    with monkeypatch.context() as env:
        env.delenv("AIRFLOW_CONN_PINGAN_SMTP")
        assert main(["publish", "approve", "majuqiao", "2024-08", "--by", "张三"]) == 2
    assert "add --catch-mail" in capsys.readouterr().err
    # the office signs it off: mailed as the first revision, the item behind the change
    assert main(["publish", "approve", "majuqiao", "2024-08", "--by", "张三"]) == 0
    assert "revision 2 signed off (签发) by 张三" in capsys.readouterr().out
    august = [m for m in mailbox.received if "month=2024-08" in m.message()["X-Pingan-Publication"]]
    assert len(august) == 2 and len(mailbox.received) == 2
    revised = august[1].message()
    assert "（第1次修订）" in str(revised["Subject"])
    html = revised.get_body(preferencelist=("html",)).get_content()
    assert "社会治安得分项（指标值 36→41）" in html and "45.00" in html and "47.00" in html
    # the month's ranking files are now the revision's, as attached
    xlsx = _attachments(revised)["2024年8月通州区平安指数排名（第1次修订）.xlsx"]
    assert (
        (rankings / "majuqiao_2024-08.xlsx").read_bytes() == xlsx != mailed["majuqiao_2024-08.xlsx"]
    )
    rows = [r for r in _publications(warehouse) if r[2] == AUG.first_day]
    assert [r[3] for r in rows] == [1, 2]
    with connect(warehouse) as conn:
        assert conn.execute(
            "select signed_by from publish.publications where month_start = %s and revision = 2",
            (AUG.first_day,),
        ).fetchone() == ("张三",)
    # August now is as published: nothing more to review, nothing more to send
    draft_bulletins(start, "manual__third")
    assert len(_reviews(warehouse)) == 1 and len(mailbox.received) == 2
    assert main(["publish", "approve", "majuqiao", "2024-08", "--by", "张三"]) == 1

    # the revision triangle: each vintage of August's 马驹桥镇, and what the marts give now
    from pingan_transforms.transform import run_dbt

    run_dbt(
        ["build", "--select", "stg_publish__publications", "stg_publish__publication_units",
         "int_publications_latest_selected", "publication_vintages"],
        warehouse,
    )  # fmt: skip
    with connect(warehouse) as conn:
        vintages = conn.execute(
            "select vintage, revision, score, score_change_since_first, sent_at is not null "
            "from marts.publication_vintages where month_start = %s "
            "and region_code = '110112115' order by vintage",
            (AUG.first_day,),
        ).fetchall()
    assert vintages == [
        ("current", None, Decimal("77.00"), Decimal("2.00"), False),
        ("r1", 1, Decimal("75.00"), Decimal("0.00"), True),
        ("r2", 2, Decimal("77.00"), Decimal("2.00"), True),
    ]


def test_an_accepted_appeal_is_revised_whatever_its_size_and_the_revision_names_it(
    warehouse, mailbox, capsys
) -> None:
    """Issue 14: an appeal accepted for a published month goes through the revision
    path: the change it brings is drafted for an office even when the policy would call
    it immaterial, the revision's 本次修订说明 names the appeal, and a draft rendered
    before a later decision is refused at sign-off."""
    from pingan_transforms.cli import main
    from pingan_transforms.tasks import draft_bulletins

    settings = get_settings()
    publications.publish_month(warehouse, AUG, settings, signed=SIGNED)
    with connect(warehouse) as conn:  # the records behind 马驹桥镇's social-order item
        for key in ("J1", "J2", "J3"):
            _insert(conn, "region_index_records", {
                "scheme_code": "majuqiao", "scheme_version": 2, "month_start": AUG.first_day,
                "region_code": "110112115", "item_code": "A1a", "source_entity": "police.incidents",
                "record_key": key, "placed_code": "110112115201", "contribution": 1,
            })  # fmt: skip
    file = ["appeal", "file", "majuqiao", "2024-08", "马驹桥镇", "--reason", "高速公路上发生"]
    assert main([*file, "--records", "J1"]) == 0
    assert main(["appeal", "decide", "1", "accept", "--by", "张三"]) == 0
    with connect(warehouse) as conn:  # what the next build makes of it: half a point
        _correct_august(conn, "75.50", 35)
    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    draft_bulletins(start, RUN)
    ((month, published, material, draft_id, changes),) = _reviews(warehouse)
    assert (month, material, draft_id is not None) == (AUG.first_day, True, True)
    with connect(warehouse) as conn:
        assert conn.execute(
            "select appeal_ids from publish.drafts where draft_id = %s", (draft_id,)
        ).fetchone() == ([1],)
    # a second appeal decided after the revision was drafted: that draft is not sent
    assert main([*file, "--records", "J2"]) == 0
    assert main(["appeal", "decide", "2", "accept", "--by", "张三"]) == 0
    capsys.readouterr()
    assert main(["publish", "approve", "majuqiao", "2024-08", "--by", "李四"]) == 1
    assert "appeal 2 of majuqiao 2024-08 was decided after draft" in capsys.readouterr().err
    with connect(warehouse) as conn:
        _correct_august(conn, "76.00", 34)  # the next build counts it too
    draft_bulletins(start, "manual__again")
    assert main(["publish", "approve", "majuqiao", "2024-08", "--by", "李四"]) == 0
    revised = mailbox.received[-1].message()
    assert "（第1次修订）" in str(revised["Subject"])
    html = revised.get_body(preferencelist=("html",)).get_content()
    assert "经申诉复核，有关记录的归属作出调整" in html
    for appeal_id, key in ((1, "J1"), (2, "J2")):
        assert (
            f"修订依据：申诉第{appeal_id}号（马驹桥镇，1条记录：{key}；理由：高速公路上发生）"
            "已采纳，不计入该单位" in html
        )
    with connect(warehouse) as conn:
        assert conn.execute(
            "select appeal_id, applied_in_revision from publish.appeals order by appeal_id"
        ).fetchall() == [(1, 2), (2, 2)]
    capsys.readouterr()
    assert main(["appeal", "list"]) == 0
    assert "已计入第2版" in capsys.readouterr().out


def test_an_immaterial_correction_is_recorded_queryable_and_never_mailed(
    warehouse, mailbox
) -> None:
    from pingan_transforms.quality.outcomes import record_gate
    from pingan_transforms.tasks import draft_bulletins
    from pingan_transforms.transform import run_dbt

    settings = get_settings()
    publications.publish_month(warehouse, AUG, settings, signed=SIGNED)
    with connect(warehouse) as conn:
        _correct_august(conn, "76.00", 38)  # 1 point, same rank and grade: not material
    with pytest.raises(RuntimeError), record_gate(warehouse, SEP, RUN):
        raise RuntimeError("police incidents: 2024-09 not delivered")  # a gate that failed
    run_dbt(
        [
            "build",
            "--select",
            "stg_publish__publications",
            "stg_publish__publication_units",
            "stg_publish__publication_items",
            "stg_publish__revision_reviews",
            "stg_publish__drafts",
            "stg_publish__gate_results",
            "int_publications_latest_selected",
            "int_publication_items_in_force_selected",
            "int_publication_units_in_force_selected",
            "publication_revisions",
            "publication_revision_items",
            "region_index_published",
            "month_status",
            "stg_publish__publication_categories",
            "region_index_details_published",
        ],
        warehouse,
    )  # views: what follows is read through them as it happens

    def status() -> list[tuple]:
        with connect(warehouse) as conn:
            return conn.execute(
                "select scheme_code, month_start, month_status, published_revision, "
                "is_revision_awaiting, is_gate_passed, gate_reason from marts.month_status "
                "order by 1, 2"
            ).fetchall()

    gate = "RuntimeError: police incidents: 2024-09 not delivered"
    assert status() == [
        ("majuqiao", AUG.first_day, "published", 1, False, None, None),
        ("majuqiao", SEP.first_day, "gate_failed", None, False, False, gate),
        ("xiaolan", SEP.first_day, "gate_failed", None, False, False, gate),
    ]

    draft_bulletins(datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai")), RUN)
    ((month, published, material, draft_id, changes),) = _reviews(warehouse)
    assert (month, published, material, draft_id) == (AUG.first_day, 1, False, None)
    assert {c["material"] for c in changes} == {False}
    assert len(mailbox.received) == 1
    with connect(warehouse) as conn:
        assert conn.execute(
            "select count(*) from publish.drafts where month_start = %s and revision > 1",
            (AUG.first_day,),
        ).fetchone() == (0,)
    assert [row[2] for row in status()] == ["published", "awaiting_signoff", "awaiting_signoff"]
    # September's bulletin states the correction once, in its 数据更正说明
    with connect(warehouse) as conn:
        (files,) = conn.execute(
            "select files from publish.drafts where scheme_code = 'majuqiao' "
            "and month_start = %s and status = 'awaiting'",
            (SEP.first_day,),
        ).fetchone()
    html = Path(files["html"]).read_text(encoding="utf-8")
    section = html[html.index("数据更正说明") :]
    assert "未达修订标准" in section
    for shown in ("2024年8月", "马驹桥镇", "得分", "75.00", "76.00"):
        assert shown in section, shown

    # the revision marts show the candidate, what moved, and the review's verdict; the
    # published index still shows what went out
    with connect(warehouse) as conn:
        units = conn.execute(
            "select region_code, published_revision, published_score, current_score, "
            "score_change, places_gained, grade_changed, has_changed, items_moved, "
            "last_review_material, last_review_draft_id from marts.publication_revisions "
            "where month_start = %s order by region_code",
            (AUG.first_day,),
        ).fetchall()
        items = conn.execute(
            "select region_code, item_code, published_item_score, current_item_score, "
            "item_score_change, published_metric_value, current_metric_value "
            "from marts.publication_revision_items"
        ).fetchall()
        published = conn.execute(
            "select region_code, score, grade, rank_in_peer_group, scheme_version, "
            "peer_group_name, published_revision, signed_by from marts.region_index_published "
            "where month_start = %s order by rank_in_peer_group",
            (AUG.first_day,),
        ).fetchall()
    assert len(units) == 4 and [u for u in units if u[7]] == [
        ("110112115", 1, Decimal("75.00"), Decimal("76.00"), Decimal("1.00"), 0, False, True,
         1, False, None),
    ]  # fmt: skip
    assert {u[8] for u in units if not u[7]} == {0}
    assert items == [
        ("110112115", "A1a", Decimal("45.00"), Decimal("46.00"), Decimal("1.00"), None,
         Decimal("38.0000")),
    ]  # fmt: skip
    assert [(code, score) for code, score, *_ in published] == [
        ("110112114", Decimal("89.00")), ("110112209", Decimal("88.00")),
        ("110112115", Decimal("75.00")), ("110112110", Decimal("70.00")),
    ]  # fmt: skip
    assert {row[4:] for row in published} == {(2, "通州区", 1, "王五")}
    with connect(warehouse) as conn:
        details = conn.execute(
            "select item_code, category_name, category_score, item_score, points, "
            "published_revision from marts.region_index_details_published "
            "where month_start = %s and region_code = '110112115' order by item_code",
            (AUG.first_day,),
        ).fetchall()
    assert details == [  # as published: 45.00 and 30.00 of 75.00, not today's 46.00
        ("A1a", "社会治安", Decimal("45.00"), Decimal("45.00"), Decimal("60.00"), 1),
        ("B1a", "群众安全感", Decimal("30.00"), Decimal("30.00"), Decimal("40.00"), 1),
    ]


def test_the_revision_policy_names_why_a_change_is_material(tmp_path: Path) -> None:
    from pingan_transforms.publish.publications import UnitSnapshot

    path = tmp_path / "publishing.yml"
    path.write_text(
        "sender: a@b.cn\nrevisions:\n  rank_change: 2\n  score_change: null\n"
        "schemes:\n  xiaolan:\n    recipients: [c@d.cn]\n    revisions:\n"
        "      grade_change: false\n"
    )
    config = load_publishing(path)
    was = UnitSnapshot("1", "甲镇", Decimal("80.00"), 3, "良好")

    def moved(score: str, rank: int, grade: str) -> UnitSnapshot:
        return UnitSnapshot("1", "甲镇", Decimal(score), rank, grade)

    policy = config.revision_policy("majuqiao")  # the file's: no score test
    assert policy.reasons(was, moved("70.00", 4, "良好")) == []
    assert policy.reasons(was, moved("80.00", 1, "优秀")) == [
        "grade 良好→优秀", "rank 3→1 (≥2 places)",
    ]  # fmt: skip
    assert policy.reasons(was, None) == ["unit removed"]
    own = config.revision_policy("xiaolan")  # the scheme's key over the file's
    assert (own.grade_change, own.rank_change, own.score_change) == (False, 2, None)
    assert own.reasons(was, moved("80.00", 3, "优秀")) == []
    shipped = load_publishing(PROJECT / "config" / "publishing.yml").revision_policy("majuqiao")
    assert shipped.reasons(was, moved("82.00", 3, "良好")) == ["score 80.00→82.00 (≥2.0 points)"]
    assert shipped.reasons(was, moved("81.99", 1, "良好")) == []


def test_the_cutoff_is_a_moment_of_the_following_month_before_the_deadline(
    tmp_path: Path, monkeypatch
) -> None:
    from pingan_transforms.cutoff import dbt_vars
    from pingan_transforms.settings import Settings

    beijing = ZoneInfo("Asia/Shanghai")
    shipped = load_publishing(PROJECT / "config" / "publishing.yml")
    settings = get_settings()
    # the shipped file: the 3rd of the next month at 24:00 Beijing time
    assert shipped.cutoff_at(SEP, settings) == datetime(2024, 10, 4, tzinfo=beijing)
    path = tmp_path / "publishing.yml"
    path.write_text('sender: a@b.cn\ncutoff:\n  day: 1\n  time: "09:30"\n')
    assert load_publishing(path).cutoff_at(Month.parse("2024-12"), settings) == datetime(
        2025, 1, 1, 9, 30, tzinfo=beijing
    )
    # dbt measures cohort rates at the same moment: an interval after the month's end,
    # the shipped rule being dbt_project.yml's default
    monkeypatch.setenv("PINGAN_PUBLISHING_FILE", str(path))
    assert dbt_vars(get_settings())["cutoff_offset"] == "0 days 09:30"
    monkeypatch.setenv("PINGAN_PUBLISHING_FILE", str(PROJECT / "config" / "publishing.yml"))
    project = yaml.safe_load((PROJECT / "dbt_project" / "dbt_project.yml").read_text())
    assert dbt_vars(get_settings())["cutoff_offset"] == project["vars"]["cutoff_offset"]
    path.write_text("sender: a@b.cn\n")  # no key: the default
    assert load_publishing(path).cutoff_at(SEP, settings) == datetime(2024, 10, 4, tzinfo=beijing)
    # a cutoff on or after the deadline could never be published on time
    path.write_text("sender: a@b.cn\ncutoff:\n  day: 5\n")
    late = Settings(publish_deadline_day=5)
    with pytest.raises(ConfigError, match=r"publishing.yml: cutoff \(day 5, 24:00\) is not before"):
        load_publishing(path).cutoff_at(SEP, late)
    assert load_publishing(path).cutoff_at(SEP, Settings(publish_deadline_day=6))
    for text, fix in (
        ('cutoff:\n  time: "25:00"', r"cutoff.time.*HH:MM"),
        ("cutoff:\n  day: 0", r"cutoff.day.*1 to 27"),
        ("cutoff:\n  days: 3", r"cutoff.days.*allowed: day, time"),
    ):
        path.write_text(f"sender: a@b.cn\n{text}\n")
        with pytest.raises(ConfigError, match=fix):
            load_publishing(path)


def test_without_an_smtp_connection_the_error_names_the_variable(warehouse, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_PINGAN_SMTP", raising=False)
    with pytest.raises(ConfigError, match="AIRFLOW_CONN_PINGAN_SMTP="):
        publications.publish_month(warehouse, SEP, get_settings(), signed=SIGNED)
    assert _publications(warehouse) == []


# --- pieces --------------------------------------------------------------------------


def test_checksum_is_of_the_content_not_of_its_representation() -> None:
    units = [
        ["110112110", 2, "西集镇", Decimal("80.50")],
        ["110112114", 2, "台湖镇", Decimal("85")],
    ]
    items = [["110112110", "A1a", Decimal("48.30")], ["110112114", "A1a", Decimal("51.00")]]

    def digest(u, i) -> str:
        return hashlib.sha256(publications.canonical_content("majuqiao", SEP, u, i)).hexdigest()

    same = digest(units, items)
    # another scale or row order is the same content
    rescaled = [[u[0], u[1], u[2], u[3].quantize(Decimal("0.0001"))] for u in reversed(units)]
    assert digest(rescaled, list(reversed(items))) == same
    # an item score moving is a change even when the total does not
    moved = [items[0], ["110112114", "A1a", Decimal("51.01")]]
    assert digest(units, moved) != same
    assert digest(units, items[:1]) != same
    assert publications.canonical_content("xiaolan", SEP, units, items) != (
        publications.canonical_content("majuqiao", SEP, units, items)
    )


def test_diff_lists_moved_units_in_ranking_order_and_units_that_appear_or_go() -> None:
    unit = publications.UnitSnapshot
    before = [unit("1", "甲镇", Decimal("90.00"), 1, "优秀"),
              unit("2", "乙镇", Decimal("80.00"), 2, "良好"),
              unit("3", "丙镇", Decimal("70.00"), 3, "一般")]  # fmt: skip
    after = [unit("2", "乙镇", Decimal("91.00"), 1, "优秀"),
             unit("1", "甲镇", Decimal("90.00"), 2, "优秀"),
             unit("4", "丁镇", Decimal("60.00"), 3, "较差")]  # fmt: skip
    changes = [(c.region_name, c.field, c.before, c.after)
               for c in publications.diff_units(before, after)]  # fmt: skip
    assert changes == [
        ("乙镇", "score", "80.00", "91.00"), ("乙镇", "rank", "2", "1"),
        ("乙镇", "grade", "良好", "优秀"), ("甲镇", "rank", "1", "2"),
        ("丁镇", "score", "—", "60.00"), ("丁镇", "rank", "—", "3"), ("丁镇", "grade", "—", "较差"),
        ("丙镇", "score", "70.00", "—"), ("丙镇", "rank", "3", "—"), ("丙镇", "grade", "一般", "—"),
    ]  # fmt: skip
    assert publications.diff_units(after, after) == []


def test_message_encodes_chinese_per_rfc_2047_and_2231(tmp_path: Path) -> None:
    pdf = mail.Attachment("2024年9月通州区平安指数通报.pdf", b"%PDF-1.7 test", "application/pdf")
    message = mail.build_message(
        sender=SENDER, recipients=MAJUQIAO_TO, subject="2024年9月通州区平安指数通报",
        html="<html><head><style>p{color:red}</style></head><body><h1>通报</h1>"
        "<p>马驹桥镇 排名第 4</p><table><tr><th>排名</th><th>乡镇街道</th></tr>"
        "<tr><td>1</td><td>于家务回族乡</td></tr></table></body></html>",
        attachments=[pdf],
    )  # fmt: skip
    raw = message.as_bytes()
    assert max(raw) < 128
    assert b"Subject: =?utf-8?b?" in raw
    assert len(RFC2231_NAME.findall(raw)) == 1
    assert b"name*0*=utf-8''2024%E5%B9%B49%E6%9C%88" in raw  # Content-Type's name too
    parsed = message_from_bytes(raw, policy=default_policy)
    assert str(parsed["Subject"]) == "2024年9月通州区平安指数通报"
    assert [a.display_name for a in parsed["To"].addresses] == ["通州区委政法委", ""]
    assert parsed.get_content_type() == "multipart/mixed"
    body = next(parsed.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "color" not in text and "马驹桥镇 排名第 4" in text
    assert "1\t于家务回族乡" in text  # table rows keep their cells apart
    (attached,) = parsed.iter_attachments()
    assert attached.get_filename() == pdf.name and attached.get_content() == pdf.data
    assert attached.get_content_type() == "application/pdf"


@pytest.mark.slow  # sends through Airflow's SMTP hook
def test_mail_catcher_keeps_each_message_and_restores_the_connection(tmp_path: Path) -> None:
    import os

    before = os.environ.get("AIRFLOW_CONN_PINGAN_SMTP")
    message = mail.build_message(sender=SENDER, recipients=XIAOLAN_TO,
                                 subject="测试/主题: 小榄镇?", html="<p>沙口社区</p>")  # fmt: skip
    with mail_catcher(tmp_path / "mail") as box:
        settings = json.loads(os.environ["AIRFLOW_CONN_PINGAN_SMTP"])
        assert settings["port"] == box.port and settings["host"] == "127.0.0.1"
        with smtplib.SMTP(box.host, box.port) as client:
            client.send_message(message)
            client.send_message(message)
        sent = mail.send_message(message, "pingan_smtp")  # through the Airflow hook
    assert os.environ.get("AIRFLOW_CONN_PINGAN_SMTP") == before
    assert sent.recipients == ("xl-zzzx@example.gov.cn",)
    files = sorted(p.name for p in (tmp_path / "mail").iterdir())
    assert len(files) == 3 == len(box.received)
    assert all(name.endswith("_测试_主题_小榄镇.eml") for name in files), files
    assert len(set(files)) == 3
    parsed = box.received[0].message()
    assert parsed.get_body(preferencelist=("html",)).get_content().strip() == "<p>沙口社区</p>"
    assert subject_slug(None) == "no-subject"
    assert subject_slug("a" * 100) == "a" * 60


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sender: nobody\n", "sender: 'nobody' is not one mail address"),
        ("default_recipients: [a@b.cn]\n", "sender: required: add it"),
        ("sender: a@b.cn\nschemes:\n  majuqiao:\n    to: [c@d.cn]\n",
         "schemes.majuqiao.to: unknown key: remove it or correct its name (allowed: "
         "recipients, revisions)"),
        ("sender: a@b.cn\nrevisions:\n  grade: true\n",
         "revisions.grade: unknown key: remove it or correct its name (allowed: grade_change, "
         "rank_change, score_change)"),
        ("sender: a@b.cn\nrevisions:\n  rank_change: 0\n",
         "revisions.rank_change: Input should be greater than or equal to 1: write the "
         "smallest material change in places"),
        ("sender: a@b.cn\nschemes:\n  majuqiao:\n    recipients: [c@d.cn]\n    revisions:\n"
         "      score_change: -1\n",
         "schemes.majuqiao.revisions.score_change: Input should be greater than 0: write the "
         "smallest material change in points"),
        ("sender: a@b.cn\nschemes:\n  majuqiao:\n    recipients: []\n",
         "schemes.majuqiao.recipients: empty: list at least one address"),
        ("sender: a@b.cn\ndefault_recipients: [x@y.cn, X@y.cn]\n",
         "default_recipients: x@y.cn is listed twice"),
        ("sender: a@b.cn\nschemes:\n  xiaolan:\n    recipients: ['张三 <zs@b.cn', c@d.cn]\n",
         "schemes.xiaolan.recipients: '张三 <zs@b.cn' is not one mail address"),
        ("sender: [a@b.cn\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_publishing_file_errors_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "publishing.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_publishing(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)


def test_a_scheme_without_recipients_fails_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "publishing.yml"
    path.write_text("sender: a@b.cn\nschemes:\n  majuqiao:\n    recipients: [c@d.cn]\n")
    config = load_publishing(path)
    assert config.recipients("majuqiao") == ["c@d.cn"]
    with pytest.raises(ConfigError, match=r"add schemes\.xiaolan\.recipients"):
        config.recipients("xiaolan")
    with pytest.raises(ConfigError, match="does not exist: set PINGAN_PUBLISHING_FILE"):
        load_publishing(tmp_path / "missing.yml")


def test_shipped_publishing_file_is_valid() -> None:
    config = load_publishing(PROJECT / "config" / "publishing.yml")
    for scheme in sorted(p.stem for p in (PROJECT / "schemes").glob("*.yaml")):
        assert config.recipients(scheme), scheme


def test_publish_status_lists_drafts_and_answers_need_airflow(
    warehouse, mailbox, monkeypatch, capsys
) -> None:
    from pingan_simulate.mailbox import free_port
    from pingan_transforms.cli import main
    from pingan_transforms.tasks import draft_bulletins

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    draft_bulletins(start, RUN)
    assert main(["publish", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("awaiting" in line for line in out), out
    assert "majuqiao" in out[1] and "2024-09  r1" in out[1]

    # the answer goes through Airflow's API server: none here, and the message says so
    monkeypatch.setenv("PINGAN_AIRFLOW_API_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["publish", "approve", "majuqiao", "2024-09", "--by", "张三"]) == 1
    assert "cannot reach the Airflow API" in capsys.readouterr().err
    assert main(["publish", "reject", "majuqiao", "2024-09", "--by", "张三"]) == 1
    assert "needs --reason" in capsys.readouterr().err

    # dag.test() has nobody to ask: pingan run names who signs, or stops before running
    monkeypatch.delenv("PINGAN_SIGNOFF_AUTO_APPROVE")
    assert main(["run", "2024-09"]) == 2
    assert "--sign-off-as NAME" in capsys.readouterr().err
    assert mailbox.received == []
