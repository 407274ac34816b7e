"""Sign-off (签发) in Airflow: the human-in-the-loop task's form, and its two answerers.

The monthly DAG's ``sign_off`` task is the standard provider's ``HITLOperator``, one
mapped instance per draft; it parks in Airflow's Required Actions until answered.

- A person answers in the UI, or with ``pingan publish approve|reject`` (:func:`answer`),
  which goes through the API server's HITL endpoint like the UI does
  (``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/{map}/hitlDetails``).
- Under ``dag.test()`` there is no API server: with ``PINGAN_SIGNOFF_AUTO_APPROVE=<name>``
  (the demo, the tests) :func:`auto_approver` answers every waiting draft as that name
  through the same handler, called in this process, and logs that it did.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pingan_transforms.months import Month
from pingan_transforms.publish.signoff import (
    APPROVE,
    OPTIONS,
    REASON_PARAM,
    REJECT,
    SIGNER_PARAM,
    subject_tag,
)
from pingan_transforms.settings import Settings

DAG_ID = "pingan_monthly"
TASK_ID = "sign_off"
log = logging.getLogger(__name__)


def signoff_params() -> dict[str, Any]:
    """The form beside the options: the signer's name and, to send back, the reason."""
    from airflow.sdk import Param

    return {
        SIGNER_PARAM: Param("", type="string", title="签发人", description="签发或退回人的姓名"),
        REASON_PARAM: Param("", type="string", title="退回理由", description="退回时必填"),
    }


def signoff_operator_kwargs() -> dict[str, Any]:
    """What every ``sign_off`` instance shares (its subject and body are per draft)."""
    return {"task_id": TASK_ID, "options": list(OPTIONS), "params": signoff_params()}


# ---------------------------------------------------------------------------
# Unattended, under dag.test()
# ---------------------------------------------------------------------------


def _answer_waiting(name: str) -> int:
    """Approve, as ``name``, every sign-off waiting in this process's metadata DB."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select, text

    answered = 0
    with create_session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # dag.test() works on the same rows in this process: never wait on its locks
            # for good, give up this round and try again on the next
            session.execute(text("set local lock_timeout = '10s'"))
        waiting = session.execute(
            select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id,
                   TaskInstance.map_index)
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(
                TaskInstance.dag_id == DAG_ID,
                TaskInstance.task_id == TASK_ID,
                TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                HITLDetail.responded_at.is_(None),
            )
        ).all()  # fmt: skip
        for dag_id, run_id, task_id, map_index in waiting:
            update_hitl_detail(
                dag_id=dag_id,
                dag_run_id=run_id,
                task_id=task_id,
                update_hitl_detail_payload=UpdateHITLDetailPayload(
                    chosen_options=[APPROVE], params_input={SIGNER_PARAM: name, REASON_PARAM: ""}
                ),
                user=SimpleAuthManagerUser(username=name, role="admin"),
                session=session,
                map_index=map_index,
            )
            log.warning("signed off %s %s[%s] as %r, unattended", run_id, task_id, map_index, name)
            answered += 1
    return answered


@contextmanager
def auto_approver(name: str | None, interval: float = 0.5) -> Iterator[None]:
    """While the block runs (a ``dag.test()``), approve every waiting sign-off as
    ``name``; nothing when ``name`` is None (a person must answer)."""
    if not name:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            try:
                _answer_waiting(name)
            except Exception:  # the next round tries again; dag.test() waits meanwhile
                log.exception("answering the waiting sign-offs failed")

    thread = threading.Thread(target=run, name="pingan-auto-approver", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


# ---------------------------------------------------------------------------
# A person, from a terminal, through the API server
# ---------------------------------------------------------------------------


class SignoffError(RuntimeError):
    """The answer could not be given: the message says why and what to do."""


@dataclass(frozen=True)
class Waiting:
    """A sign-off waiting in Airflow for an answer."""

    dag_run_id: str
    task_id: str
    map_index: int
    subject: str
    created_at: datetime


# Airflow 3.3 with the LocalExecutor: the parked task's supervisor exits about 5 s after
# the task parks, and the scheduler handles the executor's "finished" event for it on its
# next loop; an answer that resumes the task before that makes the scheduler fail the
# resumed task ("finished with state success, but the task instance's state attribute is
# queued"; seen at 0.3 s and at 5 s). A person never answers that fast; a script might,
# so an answer waits until the request is this old.
SETTLE_SECONDS = 15.0


def _client(settings: Settings):
    import httpx

    base = settings.airflow_api_url.rstrip("/")
    try:
        if settings.airflow_api_username:
            password = settings.airflow_api_password
            response = httpx.post(
                f"{base}/auth/token",
                json={
                    "username": settings.airflow_api_username,
                    "password": password.get_secret_value() if password else "",
                },
                timeout=30,
            )
        else:
            response = httpx.get(f"{base}/auth/token", timeout=30)
    except httpx.HTTPError as exc:
        raise SignoffError(
            f"cannot reach the Airflow API at {base} ({exc}): start Airflow (make airflow) or "
            "set PINGAN_AIRFLOW_API_URL"
        ) from None
    if response.status_code >= 400:
        raise SignoffError(
            f"the Airflow API at {base} refused a token ({response.status_code}): set "
            "PINGAN_AIRFLOW_API_USERNAME and PINGAN_AIRFLOW_API_PASSWORD to an Airflow user"
        )
    token = response.json()["access_token"]
    return httpx.Client(
        base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def waiting(settings: Settings, scheme_code: str | None = None, month: Month | None = None):
    """The sign-offs waiting in Airflow, or those of one scheme's month."""
    with _client(settings) as client:
        response = _send(
            client,
            "GET",
            f"/dags/{DAG_ID}/dagRuns/~/hitlDetails",
            "list the waiting sign-offs",
            params={"response_received": "false", "task_id": TASK_ID, "limit": 100},
        )
        found = [
            Waiting(
                d["task_instance"]["dag_run_id"],
                d["task_instance"]["task_id"],
                d["task_instance"]["map_index"],
                d["subject"],
                datetime.fromisoformat(d["created_at"]),
            )
            for d in response.json()["hitl_details"]
            if d["task_instance"]["state"] == "awaiting_input"  # parked, not still starting
        ]
    if scheme_code and month:
        found = [w for w in found if w.subject.startswith(subject_tag(scheme_code, month))]
    return found


def answer(
    settings: Settings,
    scheme_code: str,
    month: Month,
    *,
    approve: bool,
    by: str,
    reason: str | None = None,
) -> Waiting:
    """Approve or reject the scheme's waiting draft for the month, as ``by``."""
    if not by.strip():
        raise SignoffError("--by names the person who signs (签发人)")
    if not approve and not (reason or "").strip():
        raise SignoffError("a draft sent back needs --reason: say what to correct")
    matches = waiting(settings, scheme_code, month)
    if not matches:
        raise SignoffError(
            f"no draft of {scheme_code} {month} is waiting for sign-off in Airflow at "
            f"{settings.airflow_api_url}: `pingan publish status` lists the drafts"
        )
    if len(matches) > 1:
        raise SignoffError(
            f"{len(matches)} drafts of {scheme_code} {month} are waiting (runs "
            f"{', '.join(m.dag_run_id for m in matches)}): answer them in Airflow's Required "
            "Actions"
        )
    (found,) = matches
    respond(settings, found, approve=approve, by=by, reason=reason)
    return found


def respond(
    settings: Settings, found: Waiting, *, approve: bool, by: str, reason: str | None = None
) -> None:
    """Answer one waiting sign-off through the API server, as the Required Actions page
    does: the chosen option, and the form (signer, reason)."""
    age = (datetime.now(UTC) - found.created_at).total_seconds()
    if age < SETTLE_SECONDS:
        time.sleep(SETTLE_SECONDS - age)
    with _client(settings) as client:
        _send(
            client,
            "PATCH",
            f"/dags/{DAG_ID}/dagRuns/{quote(found.dag_run_id, safe='')}/taskInstances/"
            f"{found.task_id}/{found.map_index}/hitlDetails",
            f"answer {found.subject}",
            json={
                "chosen_options": [APPROVE if approve else REJECT],
                "params_input": {SIGNER_PARAM: by, REASON_PARAM: reason or ""},
            },
        )


@contextmanager
def api_approver(settings: Settings, by: str, interval: float = 2.0) -> Iterator[list[Waiting]]:
    """While the block runs, sign off every draft waiting in the Airflow deployment at
    ``settings.airflow_api_url`` as ``by``, through its REST API, as a person at the
    Required Actions page would (``pingan airflow --sign-off-as``, the tests' backfill).
    Yields the list of what it answered."""
    answered: list[Waiting] = []
    stop = threading.Event()

    def run() -> None:
        # Nothing may end this loop but the block's end: a thread that died on one slow
        # answer (a read timeout while the machine is busy) would leave every later
        # draft waiting, and the run with it, until someone noticed.
        while not stop.wait(interval):
            try:
                for found in waiting(settings):
                    respond(settings, found, approve=True, by=by)
                    log.warning("signed off %s as %r through the API", found.subject, by)
                    answered.append(found)
            except SignoffError as exc:  # the deployment is starting or busy: try again
                log.warning("sign-off not answered yet, trying again: %s", exc)
            except Exception:
                log.exception("answering the waiting sign-offs failed; trying again")

    thread = threading.Thread(target=run, name="pingan-api-approver", daemon=True)
    thread.start()
    try:
        yield answered
    finally:
        stop.set()
        thread.join(timeout=30)


def _send(client, method: str, url: str, doing: str, **kwargs: Any):
    """One API call; a refusal or a broken connection is a SignoffError that says which."""
    import httpx

    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise SignoffError(
            f"the Airflow API at {client.base_url} did not answer ({type(exc).__name__}: "
            f"{exc}) when asked to {doing}"
        ) from None
    if response.status_code >= 400:
        raise SignoffError(
            f"the Airflow API could not {doing}: {response.status_code} {response.text[:300]}"
        )
    return response


def decision(answer: dict[str, Any]) -> tuple[bool, str, str | None]:
    """(approved, who, reason) from the ``sign_off`` task's return value."""
    chosen = (answer.get("chosen_options") or [None])[0]
    params = answer.get("params_input") or {}
    who = (params.get(SIGNER_PARAM) or "").strip() or (
        (answer.get("responded_by_user") or {}).get("name") or ""
    )
    if chosen not in OPTIONS:
        raise SignoffError(f"sign-off answered {chosen!r}: expected one of {', '.join(OPTIONS)}")
    if not who:
        raise SignoffError("the sign-off names nobody: fill in 签发人 (signer)")
    reason = (params.get(REASON_PARAM) or "").strip() or None
    return chosen == APPROVE, who, reason
