"""A local mail catcher for the demo and the tests: an SMTP server that keeps every message.

:func:`mail_catcher` starts an aiosmtpd server on 127.0.0.1 (a free port), saves every
message it receives, exactly as received, as ``<folder>/<time>_<subject>.eml`` (open
it in any mail client), and announces itself the way a deployment announces its mail
server: the Airflow connection variable ``AIRFLOW_CONN_PINGAN_SMTP`` (plain SMTP, no
TLS, no login), restored when the block ends.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

# aiosmtpd logs every SMTP command at INFO
logging.getLogger("mail.log").setLevel(logging.WARNING)

SUBJECT_CHARS = 60
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def subject_slug(subject: str | None) -> str:
    """The subject as a file name part: Chinese kept, path and shell-hostile characters
    replaced, whitespace collapsed to ``_``, at most 60 characters."""
    text = _UNSAFE.sub("_", subject or "")
    text = re.sub(r"[\s_]+", "_", text).strip("._ ")
    return text[:SUBJECT_CHARS].rstrip("._ ") or "no-subject"


@dataclass(frozen=True)
class Received:
    """One message the catcher took: who sent it to whom, its bytes and where it is."""

    path: Path
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Mailbox:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def connection(self) -> str:
        """The Airflow connection (JSON form) of this server: plain SMTP, no TLS."""
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": self.host,
                "port": self.port,
                "extra": {
                    "disable_ssl": True,
                    "disable_tls": True,
                    "timeout": 10,
                    "retry_limit": 1,
                },
            }
        )

    def save(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> Received:
        subject = message_from_bytes(content, policy=default_policy).get("Subject")
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S.%f")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{stamp}_{subject_slug(str(subject or ''))}.eml"
            n = 2
            while path.exists():
                path = path.with_name(f"{path.stem}-{n}.eml")
                n += 1
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(content)
            tmp.replace(path)  # a reader never sees half a message
            received = Received(path, mail_from, tuple(rcpt_tos), content)
            self.received.append(received)
        return received

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):  # only with decode_data=True, which is not used
            content = content.encode("utf-8")
        self.save(envelope.mail_from, list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def mail_catcher(folder: Path, conn_id: str = "pingan_smtp") -> Iterator[Mailbox]:
    """Run the catcher for the block, with ``AIRFLOW_CONN_<CONN_ID>`` pointing at it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(folder=folder, port=free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    saved = os.environ.get(name)
    os.environ[name] = mailbox.connection
    try:
        yield mailbox
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved
        controller.stop()
