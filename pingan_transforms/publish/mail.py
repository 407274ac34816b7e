"""The bulletin as an email, sent through the Airflow SMTP connection.

The message is built with the standard library's :class:`email.message.EmailMessage`
under the default (RFC 5322) policy, so that Chinese survives every mail system on
the way:

- the subject and display names are RFC 2047 encoded words (``=?utf-8?b?…?=``);
- attachment file names are RFC 2231 parameters (``filename*=utf-8''…``, split into
  ``filename*0*=…; filename*1*=…`` continuations when long), on Content-Disposition
  and as ``name`` on Content-Type;
- the body is ``multipart/alternative`` (plain text first, then the HTML bulletin),
  each part base64-encoded UTF-8, so the message is 7-bit clean and needs neither
  8BITMIME nor SMTPUTF8 from the server;
- attachments (the PDF bulletin, the xlsx ranking) follow in ``multipart/mixed``.

Sending uses :class:`airflow.providers.smtp.hooks.smtp.SmtpHook` only to open the
connection it is configured for (host, port, SSL or STARTTLS, login: the
``pingan_smtp`` connection, e.g. ``AIRFLOW_CONN_PINGAN_SMTP``); the hook's own
``send_email_smtp`` builds a legacy ``MIMEMultipart`` that cannot carry the message
above, so the message is handed to the smtplib client the hook opened.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser
from pathlib import Path

from pingan_transforms.settings import ConfigError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {".pdf": "application/pdf", ".xlsx": XLSX_TYPE, ".csv": "text/csv",
                 ".json": "application/json", ".html": "text/html"}  # fmt: skip


class MailError(RuntimeError):
    """The mail server did not take the message for every recipient."""


@dataclass(frozen=True)
class Attachment:
    """A file as it is attached: its (Chinese) name, bytes and MIME type."""

    name: str
    data: bytes
    content_type: str

    @classmethod
    def from_path(cls, path: Path, name: str | None = None) -> Attachment:
        name = name or path.name
        content_type = CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
        return cls(name=name, data=path.read_bytes(), content_type=content_type)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def record(self) -> dict[str, object]:
        """What the publication row keeps of it (``publish.publications.files``)."""
        return {
            "name": self.name,
            "content_type": self.content_type,
            "bytes": len(self.data),
            "sha256": self.sha256,
        }


# ---------------------------------------------------------------------------
# HTML → plain text (the text/plain alternative)
# ---------------------------------------------------------------------------

_BLOCKS = {"p", "div", "section", "article", "header", "footer", "h1", "h2", "h3", "h4",
           "h5", "h6", "ul", "ol", "table", "thead", "tbody", "tfoot", "tr", "blockquote",
           "figure", "figcaption", "caption", "pre", "hr"}  # fmt: skip
_SKIPPED = {"style", "script", "head", "title", "svg"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
            self._cells = 0
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            if self._cells:
                self.parts.append("\t")
            self._cells += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._skip:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(self._skip - 1, 0)
        elif tag in _BLOCKS and tag != "tr":  # table rows follow each other without a gap
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: paragraphs, list items, table rows with tabs."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = re.sub(r" *\t *", "\t", "".join(parser.parts))
    lines = [line.strip(" ") for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# ---------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------


def address_spec(address: str) -> str:
    """``name@domain`` of an address that may carry a display name."""
    return default_policy.header_factory("to", address).addresses[0].addr_spec


def _domain(sender: str) -> str:
    return default_policy.header_factory("from", sender).addresses[0].domain or "localhost"


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    html: str,
    attachments: Sequence[Attachment] = (),
    text: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The bulletin email: text and HTML alternatives, then the attachments."""
    msg = EmailMessage(policy=default_policy)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(date or datetime.now().astimezone())
    msg["Message-ID"] = message_id or make_msgid("pingan", domain=_domain(sender))
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text if text is not None else html_to_text(html), cte="base64")
    msg.add_alternative(html, subtype="html", cte="base64")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name
        )
        # the name on Content-Type too, for clients that read only that one
        msg.get_payload()[-1].set_param("name", attachment.name)
    return msg


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    message_id: str
    recipients: tuple[str, ...]


def check_connection(conn_id: str) -> None:
    """Fail early, naming the variable to set, when the SMTP connection is not defined."""
    from pingan_transforms.connections import connection_uri

    if not connection_uri(conn_id):
        raise ConfigError(
            f"SMTP connection {conn_id!r} is not defined: set AIRFLOW_CONN_{conn_id.upper()}="
            '\'{"conn_type": "smtp", "host": "mail.example", "port": 587, "login": "…", '
            '"password": "…", "extra": {"disable_ssl": true}}\' or create the Airflow '
            "SMTP connection (PINGAN_SMTP_CONN_ID names another one)"
        )


def send_message(message: EmailMessage, conn_id: str) -> Sent:
    """Send through the Airflow SMTP connection ``conn_id``; every recipient must accept.

    Raises :class:`MailError` when the server refuses the sender, any recipient or the
    data, so that the caller records nothing (a partly delivered bulletin is retried
    whole after the address is fixed).
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    check_connection(conn_id)
    recipients = tuple(
        a.addr_spec for header in ("To", "Cc", "Bcc") for a in _addresses(message, header)
    )
    sender = _addresses(message, "From")[0].addr_spec  # smtplib leaves Bcc out of the data
    try:
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            client = hook._smtp_client  # the smtplib client the connection configures
            if client is None:  # pragma: no cover - get_conn() raises instead
                raise MailError(f"SMTP connection {conn_id!r} did not open")
            refused = client.send_message(message, from_addr=sender, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(_refused_text(exc.recipients, conn_id)) from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"the mail server of {conn_id!r} did not take the bulletin: {exc}") from exc
    except OSError as exc:
        raise MailError(f"cannot reach the mail server of {conn_id!r}: {exc}") from exc
    if refused:
        raise MailError(_refused_text(refused, conn_id))
    return Sent(message_id=str(message["Message-ID"]), recipients=recipients)


def _addresses(message: EmailMessage, header: str) -> tuple[Address, ...]:
    value = message.get(header)
    return tuple(value.addresses) if value is not None else ()


def _refused_text(refused: dict, conn_id: str) -> str:
    listed = "; ".join(
        f"{address}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        for address, (code, reply) in refused.items()
    )
    return (
        f"the mail server of {conn_id!r} refused {listed}: correct the address in the "
        "publishing file (config/publishing.yml); nothing was recorded, the bulletin is "
        "sent again whole on the next run"
    )
