"""``pingan``: the command line for operators and for ``make demo``.

Errors the user can fix (configuration, an unreachable server) print one clear
message and exit 2; no traceback is the user interface.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError, Settings, get_settings

if TYPE_CHECKING:
    from pingan_transforms.warehouse import WarehouseTarget


def _warehouse(args: argparse.Namespace, settings: Settings) -> int:
    from pingan_transforms.warehouse.connection import embedded_server, redact, resolve_target

    if not settings.embedded:
        if args.action in ("start", "stop"):
            url = redact(settings.warehouse_url or "")
            print(f"PINGAN_WAREHOUSE_URL is set: the warehouse is {url} and is not managed here")
            return 0
        print(redact(resolve_target(settings).url))
        return 0
    server = embedded_server(settings)
    if args.action == "start":
        status = server.start()
        print(f"embedded PostgreSQL running (pid {status.pid}, 127.0.0.1:{status.port}, "
              f"data {settings.pgdata})")  # fmt: skip
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    elif args.action == "status":
        status = server.status()
        if status.running:
            print(f"running: pid {status.pid}, port {status.port}, data {settings.pgdata}")
        else:
            print(f"not running (data {settings.pgdata})")
            return 1
    elif args.action == "url":
        print(resolve_target(settings, start=False).url)
    return 0


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    if args.what == "regions":
        path = _write_demo_regions(settings, args.seed)
        print(f"region master written to {path}")
        return 0
    from pingan_simulate.police import PoliceSimulation, fill_front_database
    from pingan_transforms.connections import source_url
    from pingan_transforms.contracts.regions import read_master
    from pingan_transforms.sources import sources_config
    from pingan_transforms.warehouse import WarehouseTarget, ensure_database

    months = [Month.parse(m) for m in args.months]
    regions = read_master(settings.region_master_path)
    police = sources_config(settings).sql("police")
    target = WarehouseTarget.from_url(
        source_url(police.connection, settings, police.embedded_database)
    )
    ensure_database(target)
    count = fill_front_database(target.url, PoliceSimulation(seed=args.seed), regions, months)
    print(f"police front database {target.dbname}: {count} incidents for "
          f"{', '.join(map(str, months))}")  # fmt: skip
    return 0


def _write_demo_regions(settings: Settings, seed: int):
    from pingan_simulate import regions as sim_regions
    from pingan_transforms.contracts.regions import write_master

    # every division file (Tongzhou's towns, Zhongshan's 小榄镇 and its communities), by name
    divisions = [
        division
        for path in sorted((settings.project_dir / "data" / "regions").glob("*.csv"))
        for division in sim_regions.read_divisions(path)
    ]
    master = sim_regions.generate_master(divisions, seed=seed)
    return write_master(master, settings.region_master_path)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.sign_off_as:  # else PINGAN_SIGNOFF_AUTO_APPROVE, or require_signer says what to do
        settings = settings.model_copy(update={"signoff_auto_approve": args.sign_off_as})
    months = [Month.parse(text) for text in args.months]
    if args.inline:  # this process, everything Airflow and dbt say (the console's child)
        _run_months(settings, months, verbose=True)
        return 0
    logs = _run_months(settings, months, verbose=args.verbose)
    if logs is not None:
        print(f"logs: {logs}/ ({', '.join(f'{m}.log' for m in months)})")
    return 0


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    """Answer a draft waiting for sign-off in Airflow, or list the drafts."""
    if args.action == "status":
        from pingan_transforms.publish.signoff import draft_statuses
        from pingan_transforms.warehouse import connect, resolve_target

        with connect(resolve_target(settings)) as conn:
            drafts = draft_statuses(conn)
        if not drafts:
            print("no drafts: the monthly DAG drafts a month's bulletin after its quality gate")
        for d in drafts:
            decided = f" by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M}" if d.decided_by else ""
            reason = f" ({d.reason})" if d.reason else ""
            print(f"{d.draft_id:>5}  {d.scheme_code:<12} {d.month}  r{d.revision}  "
                  f"{d.status:<10} {d.signoff_via:<7}{decided}{reason}  {d.subject}")  # fmt: skip
        return 0
    from pingan_transforms.hitl import SignoffError, answer

    if not args.scheme or not args.month or not args.by:
        raise ConfigError(f"pingan publish {args.action} SCHEME YYYY-MM --by NAME")
    office = _office_draft(settings, args)
    if office is not None:
        return office
    try:
        found = answer(
            settings, args.scheme, Month.parse(args.month), approve=args.action == "approve",
            by=args.by, reason=args.reason,
        )  # fmt: skip
    except SignoffError as exc:
        print(f"pingan: {exc}", file=sys.stderr)
        return 1
    done = "signed off (签发)" if args.action == "approve" else "sent back (退回)"
    print(f"{args.scheme} {args.month} {done} by {args.by}: {found.subject}")
    print(f"the run {found.dag_run_id} goes on in Airflow; `pingan publish status` shows it")
    return 0


def _office_draft(settings: Settings, args: argparse.Namespace) -> int | None:
    """Decide a revision drafted for an office's sign-off (the revision policy's way);
    None when the month's waiting draft waits in Airflow's Required Actions instead."""
    from pingan_transforms.publish.publications import (
        DraftOutdated,
        Signature,
        awaiting_draft,
        decide_office_draft,
    )
    from pingan_transforms.warehouse import connect, resolve_target

    target = resolve_target(settings)
    month = Month.parse(args.month)
    with connect(target) as conn:
        found = awaiting_draft(conn, args.scheme, month)
    if found is None:
        print(f"pingan: no draft of {args.scheme} {month} is waiting for sign-off: "
              "`pingan publish status` lists the drafts", file=sys.stderr)  # fmt: skip
        return 1
    if found[1] != "office":
        return None
    approve = args.action == "approve"
    if not approve and not (args.reason or "").strip():
        print("pingan: a draft sent back needs --reason: say what to correct", file=sys.stderr)
        return 1
    catcher: AbstractContextManager[object] = nullcontext()
    if args.catch_mail:  # the demo's mail server: each message kept as an .eml file
        from pingan_simulate.mailbox import mail_catcher

        catcher = mail_catcher(settings.output_dir / "mail", settings.smtp_conn_id)
    try:
        with catcher:
            result = decide_office_draft(
                target, settings, found[0], approve=approve,
                signature=Signature(by=args.by, reason=args.reason),
            )  # fmt: skip
    except DraftOutdated as exc:
        print(f"pingan: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        if args.catch_mail:
            raise
        raise ConfigError(
            f"{exc}; after `make demo`, whose mail server has stopped, add --catch-mail"
        ) from None
    if result is None:
        print(f"{args.scheme} {month} draft {found[0]} sent back (退回) by {args.by}: "
              f"{args.reason}")  # fmt: skip
    else:
        print(f"{args.scheme} {month} revision {result.revision} signed off (签发) by {args.by} "
              f"and mailed to {len(result.recipients)} recipients: {result.subject}")  # fmt: skip
    return 0


def _run_months(
    settings: Settings,
    months: list[Month],
    after_each: Callable[[Month], None] | None = None,
    *,
    verbose: bool = False,
) -> Path | None:
    """The monthly DAG through dag.test(), month after month; ``after_each`` runs between.

    Verbose: in this process, with everything Airflow and dbt print. Otherwise each month
    runs in a child whose output goes to a log file (pingan_transforms/console.py), one
    line per task here; returns the folder of those logs."""
    from pingan_transforms.console import log_dir, run_month_in_child, terminated_as_interrupt
    from pingan_transforms.orchestrate import ensure_airflow_db, require_signer, run_month
    from pingan_transforms.warehouse import resolve_target

    require_signer(settings)
    ensure_airflow_db(settings)
    logs = None if verbose else log_dir(settings, "run")
    if logs is not None:
        resolve_target(settings)  # started here, not in the child: it outlives an interrupt
    # here SIGTERM stops the child as Ctrl-C does; the child itself (verbose, --inline)
    # keeps the default, ending at once when this process ends its group
    with terminated_as_interrupt() if logs is not None else nullcontext():
        for month in months:
            if logs is None:
                states = run_month(settings, month)
            else:
                print(f"pingan_monthly {month}:", flush=True)
                states = run_month_in_child(settings, month, logs, settings.signoff_auto_approve)
            dbt = sum(t.startswith("dbt.") for t in states)
            print(f"pingan_monthly {month}: {len(states)} tasks ({dbt} dbt nodes), states "
                  f"{sorted(set(states.values()))}")  # fmt: skip
            if after_each is not None and month != months[-1]:
                after_each(month)
    return logs


def _ranking(args: argparse.Namespace, settings: Settings) -> int:
    from pingan_transforms.publish.ranking import LEVEL_NAMES, fetch_ranking, format_table
    from pingan_transforms.warehouse import resolve_target

    month = Month.parse(args.month)
    by_scheme = fetch_ranking(resolve_target(settings), month, getattr(args, "scheme", None))
    if not by_scheme:
        print(f"no ranking for {month}")
        return 1
    for code, rows in by_scheme.items():
        first = rows[0]
        level = LEVEL_NAMES.get(first.region_level, "单位")
        title = (f"{month} {first.total_label}排名 ({code} v{first.scheme_version}, "
                 f"{first.peer_group_name or ''} {len(rows)} 个{level})")  # fmt: skip
        print(format_table(rows, title) + "\n")
    return 0


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    """Why a unit scored what it did, item by item, with the records behind each."""
    from pingan_transforms.publish.explain import (
        ExplainError,
        explain_unit,
        format_explanation,
        write_records_csv,
    )
    from pingan_transforms.warehouse import connect, resolve_target

    month = Month.parse(args.month)
    try:
        with connect(resolve_target(settings)) as conn:
            explanation = explain_unit(conn, args.scheme, month, args.unit, args.item)
    except ExplainError as exc:
        print(f"pingan explain: {exc}", file=sys.stderr)
        return 1
    print(format_explanation(explanation, limit=None if args.all else 5))
    if args.csv:
        rows = write_records_csv(explanation, Path(args.csv))
        print(f"{rows} records written to {args.csv}")
    return 0


def _appeal(args: argparse.Namespace, settings: Settings) -> int:
    """File, decide or list appeals (申诉) against the records behind a unit's items."""
    from pingan_transforms.publish.appeals import (
        AppealError,
        decide_appeal,
        file_appeal,
        format_appeals,
        list_appeals,
    )
    from pingan_transforms.warehouse import connect, resolve_target

    try:
        with connect(resolve_target(settings)) as conn:
            if args.action == "list":
                month = Month.parse(args.month) if args.month else None
                appeals = list_appeals(conn, args.scheme, month)
                print(format_appeals(appeals) if appeals else "no appeals")
                return 0
            if args.action == "file":
                appeal = file_appeal(
                    conn, args.scheme, Month.parse(args.month), args.unit, args.records,
                    args.reason, args.by,
                )  # fmt: skip
                print(f"appeal {appeal.appeal_id} filed: {appeal.describe()}")
                print(f"decide it with `pingan appeal decide {appeal.appeal_id} accept|reject "
                      "--by NAME [--move-to UNIT]`")  # fmt: skip
                return 0
            appeal = decide_appeal(
                conn, args.appeal_id, accept=args.decision == "accept", by=args.by,
                move_to=args.move_to, note=args.note,
            )  # fmt: skip
    except AppealError as exc:
        print(f"pingan appeal: {exc}", file=sys.stderr)
        return 1
    print(f"appeal {appeal.appeal_id}: {appeal.describe()}")
    if appeal.status == "accepted":
        print(f"the numbers of {appeal.scheme_code} {appeal.month} change at the month's next "
              f"run (`pingan run {appeal.month} --sign-off-as NAME`); a published month then "
              "gets a revision to sign off that names this appeal")  # fmt: skip
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """Everything from nothing: warehouse, simulated sources, DAG runs, ranking."""
    from pingan_simulate.mailbox import mail_catcher
    from pingan_simulate.sources import simulated_sources
    from pingan_transforms.warehouse import resolve_target

    months = [Month.parse(m) for m in args.months]
    target = resolve_target(settings)
    print(f"warehouse: {target.host}:{target.port}/{target.dbname}")
    if settings.regions_file is None:
        print(f"region master: {_write_demo_regions(settings, args.seed)}")
    with (
        simulated_sources(settings, months, seed=args.seed) as sources,
        # the bulletins go to a local SMTP catcher that keeps each as an .eml file
        mail_catcher(settings.output_dir / "mail", settings.smtp_conn_id) as mailbox,
    ):
        print(f"simulated sources for {', '.join(map(str, months))}: police front database "
              f"{sources.police_url.rsplit('/', 1)[-1]}, traffic API {sources.traffic_url}, "
              f"fire drops {sources.fire_drops}")  # fmt: skip
        print(f"mail server smtp://{mailbox.host}:{mailbox.port}, keeping mail in {mailbox.folder}")

        def correct(month: Month) -> None:
            # the source systems correct some of the month's records after its run
            print(f"after the {month} run: {sources.between_runs(month)}")

        # nobody is there to sign: the demo signs every draft as "demo", and says so
        signer = settings.signoff_auto_approve or "demo"
        print(f"sign-off (签发): every draft is signed as {signer!r}, unattended")
        settings = settings.model_copy(update={"signoff_auto_approve": signer})
        logs = _run_months(settings, months, after_each=correct, verbose=args.verbose)
        given = sources.generated
    from pingan_transforms.load.report import format_counts, source_counts

    print("\nsource rows (given = generated in the source; loaded = raw rows, every version):")
    print(format_counts(source_counts(target), given))
    print("(`pingan quarantine` lists the quarantined rows by file or batch and reason)")
    rankings = settings.output_dir / "rankings"
    for path in sorted(rankings.glob("*.csv")):
        print(f"ranking file: {path}")
    for mail in mailbox.received:
        print(f"bulletin mailed to {len(mail.rcpt_tos)} recipients: {mail.path}")
    _print_office_drafts(target)
    print()
    shown = _ranking(argparse.Namespace(month=str(months[-1])), settings)
    if logs is not None:
        print(f"logs of the runs (Airflow, dbt): {logs}/")
    return shown


def _quarantine(args: argparse.Namespace, settings: Settings) -> int:
    from pingan_transforms.load.report import format_quarantine, quarantine_counts
    from pingan_transforms.sources import sources_config
    from pingan_transforms.warehouse import resolve_target

    config = sources_config(settings)
    if args.source and args.source not in config.sources:
        raise ConfigError(
            f"{config.path}: no source named {args.source!r}; registered: "
            f"{', '.join(config.sources)}"
        )
    target = resolve_target(settings)
    print(format_quarantine(quarantine_counts(target, config, args.source)))
    return 0


def _print_office_drafts(target: WarehouseTarget) -> None:
    """The revisions the revision policy drafted, waiting for an office's sign-off."""
    from pingan_transforms.publish.signoff import draft_statuses
    from pingan_transforms.warehouse import connect

    with connect(target) as conn:
        waiting = [
            d for d in draft_statuses(conn) if d.status == "awaiting" and d.signoff_via == "office"
        ]
    if not waiting:
        return
    print("\nrevisions drafted by the revision policy (config/publishing.yml), not mailed: "
          "they wait for an office's sign-off (签发)")  # fmt: skip
    for d in sorted(waiting, key=lambda d: (d.scheme_code, d.month)):
        print(f"  {d.subject}: .venv/bin/pingan publish approve {d.scheme_code} {d.month} "
              "--by 张三 --catch-mail")  # fmt: skip
    print("  (marts.publication_revisions shows what changed and why; --catch-mail: the "
          "demo's mail server, .eml files in output/mail)")  # fmt: skip


def _airflow(args: argparse.Namespace, settings: Settings) -> int:
    """Airflow on 127.0.0.1 (api-server, scheduler, dag-processor, triggerer) with the
    project's DAGs, the embedded warehouse and the simulated sources; optionally a
    backfill of months and a screenshot of the monthly DAG's grid."""
    import time

    from pingan_simulate.mailbox import mail_catcher
    from pingan_simulate.sources import simulated_sources
    from pingan_transforms.airflow_local import backfill, local_airflow
    from pingan_transforms.hitl import api_approver

    months = [Month.parse(m) for m in args.months]
    if settings.regions_file is None:
        print(f"region master: {_write_demo_regions(settings, args.seed)}")
    if settings.schedule_until is None:
        # the simulated sources hold these months only: schedule none after them (else
        # unpausing the monthly DAG would start a run for last month, which has no data)
        os.environ["PINGAN_SCHEDULE_UNTIL"] = months[-1].first_day.isoformat()
        settings = get_settings()
    with (
        simulated_sources(settings, months, seed=args.seed),
        mail_catcher(settings.output_dir / "mail", settings.smtp_conn_id),
        local_airflow(settings, port=args.port, fresh=args.fresh) as deployment,
    ):
        print(f"Airflow UI: {deployment.url} (component logs in {deployment.home})")
        if args.backfill:
            print(f"backfilling pingan_monthly for {', '.join(map(str, months))} ...")
            api = settings.model_copy(update={"airflow_api_url": deployment.url})
            if args.sign_off_as:
                print(f"sign-off (签发): every draft is signed as {args.sign_off_as!r}")
            else:
                print("each month's drafts wait for sign-off (签发): answer in the UI's "
                      "Required Actions or with `pingan publish approve SCHEME YYYY-MM "
                      "--by NAME`")  # fmt: skip
            with api_approver(api, args.sign_off_as) if args.sign_off_as else nullcontext():
                runs = backfill(deployment, months, settings.timezone)
            print(f"{len(runs)} runs: {', '.join(r['run_id'] + '=' + r['state'] for r in runs)}")
        if args.screenshot:
            from pingan_transforms.airflow_local import screenshot_grid

            path = screenshot_grid(deployment, "pingan_monthly", args.screenshot)
            print(f"grid screenshot: {path}")
        if args.exit:
            return 0
        print("serving until Ctrl-C")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
    return 0


def _manifest(args: argparse.Namespace, settings: Settings) -> int:
    from pingan_transforms.dbt_airflow import build_manifest

    print(f"dbt manifest: {build_manifest(settings, force=args.force)}")
    return 0


def _scheme(args: argparse.Namespace, settings: Settings) -> int:
    """Indicator schemes (schemes/README.md): an invalid file prints its problems, exits 1."""
    from pathlib import Path

    from pingan_transforms.scheme import commands

    if args.action == "validate":
        regions = [Path(p) for p in args.regions] if args.regions else None
        return commands.validate([Path(f) for f in args.files], regions, settings)
    if args.action == "show":
        return commands.show(Path(args.file), settings)
    if args.action == "compare":
        return _compare(args, settings)
    return commands.load(Path(args.dir) if args.dir else None, settings)


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    """Two schemes (or versions) scored over the same months, nothing published."""
    from pathlib import Path

    from pingan_transforms.compare import (
        compare_schemes,
        format_comparison,
        write_comparison_xlsx,
    )
    from pingan_transforms.warehouse import resolve_target

    months = [Month.parse(m) for m in args.months]
    file_a, file_b = Path(args.scheme_a), Path(args.scheme_b)
    comparison = compare_schemes(resolve_target(settings), settings, file_a, file_b, months)
    print(format_comparison(comparison))
    default = settings.output_dir / "compare" / f"{file_a.stem}_vs_{file_b.stem}.xlsx"
    path = write_comparison_xlsx(comparison, Path(args.xlsx) if args.xlsx else default)
    print(f"written {path}")
    return 0


def _docs(args: argparse.Namespace, settings: Settings) -> int:
    """The dbt docs site of the warehouse as it stands (models, tests, exposures, lineage),
    as one static page under output/dbt-docs/ that opens from a file."""
    import shutil

    from pingan_transforms.transform import run_dbt
    from pingan_transforms.warehouse import resolve_target

    target = resolve_target(settings)
    run_dbt(["docs", "generate", "--static"], target, settings)
    built = settings.dbt_project_dir / "target" / target.dbname
    out = settings.output_dir / "dbt-docs"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built / "static_index.html", out / "index.html")
    for name in ("manifest.json", "catalog.json"):
        shutil.copyfile(built / name, out / name)
    print(f"dbt docs: {out / 'index.html'} (open it in a browser; no server needed)")
    return 0


def _bi(args: argparse.Namespace, settings: Settings) -> int:
    """Superset on 127.0.0.1 with the dashboard 平安指数看板, reading the marts as
    pingan_bi_reader; left running like the warehouse (`pingan bi --stop` ends it)."""
    from pingan_transforms.bi.superset import Superset, SupersetError, bi_login

    superset = Superset(settings, port=args.port, url=args.superset_url)
    if args.stop:
        print("Superset stopped" if superset.stop() else "Superset was not running")
        return 0
    created = None
    try:
        if superset.external:  # the compose stack's: provision it, nothing else
            superset.wait_until_healthy()
        else:
            if superset.ensure_venv():
                print(f"installed Superset into {superset.venv} (requirements-bi.lock)")
            created = superset.ensure_metadata()
            superset.start()
        provisioned = superset.provision(bi_login(settings))
    except SupersetError as exc:
        print(f"pingan: {exc}", file=sys.stderr)
        return 1
    print(f"Superset: {provisioned['dashboard']}  (平安指数看板, "
          f"{len(provisioned['charts'])} charts, read as pingan_bi_reader)")  # fmt: skip
    if created:
        print(f"login: admin / {created}  (shown once; kept in {superset.admin_password_file})")
    elif not superset.external:
        print(f"login: admin, password in {superset.admin_password_file}")
    if args.screenshot:
        from pingan_transforms.bi.browser import screenshot

        try:
            print(f"screenshot: {screenshot(superset, Path(args.screenshot))}")
        except SupersetError as exc:
            print(f"pingan: {exc}", file=sys.stderr)
            return 1
    if not superset.external:
        print("stop it with `make bi-stop` (pingan bi --stop)")
    return 0


def _checksums(args: argparse.Namespace, settings: Settings) -> int:
    """Lines to compare between two runs of the same months (before and after a change)."""
    from pingan_transforms.publish.checksums import mart_checksums, output_checksums
    from pingan_transforms.warehouse import resolve_target

    marts = mart_checksums(resolve_target(settings))
    for checksum in [*marts, *output_checksums(settings.output_dir)]:
        print(checksum.line())
    return 0


def _generate(args: argparse.Namespace, settings: Settings) -> int:
    """Mirror the source registry into dbt_project.yml (model paths, vars)."""
    from pingan_transforms.sources import generate_dbt_project, sources_config

    path = settings.dbt_project_dir / "dbt_project.yml"
    changed = generate_dbt_project(
        sources_config(settings), settings.dbt_project_dir, write=not args.check
    )
    if not changed:
        print(f"{path} is current with the registry {settings.sources_path}")
        return 0
    verb = "differs from the registry; run `pingan generate`:" if args.check else "updated:"
    print(f"{path} {verb}", *(f"  {line}" for line in changed), sep="\n")
    return 1 if args.check else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pingan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="manage the embedded PostgreSQL warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.set_defaults(func=_warehouse)

    sim = sub.add_parser("simulate", help="fill the simulated source systems")
    sim.add_argument("what", choices=["regions", "police"])
    sim.add_argument("--months", nargs="+", default=["2024-08", "2024-09"])
    sim.add_argument("--seed", type=int, default=20240801)
    sim.set_defaults(func=_simulate)

    run = sub.add_parser("run", help="run pingan_monthly with dag.test() for the given months")
    run.add_argument("months", nargs="+", metavar="YYYY-MM")
    run.add_argument("--sign-off-as", metavar="NAME", help="sign every draft as NAME, unattended")
    run.add_argument(
        "-v", "--verbose", action="store_true", help="print everything Airflow and dbt say"
    )
    run.add_argument(
        "--inline", action="store_true", help="run in this process, full output (as -v)"
    )
    run.set_defaults(func=_run)

    pub = sub.add_parser("publish", help="sign off (签发) or send back a drafted bulletin")
    pub.add_argument("action", choices=["approve", "reject", "status"])
    pub.add_argument("scheme", nargs="?", help="scheme code (approve, reject)")
    pub.add_argument("month", nargs="?", metavar="YYYY-MM", help="the month (approve, reject)")
    pub.add_argument("--by", help="who signs or sends back (签发人)")
    pub.add_argument("--reason", help="why a draft is sent back (required with reject)")
    pub.add_argument(
        "--catch-mail",
        action="store_true",
        help="mail through a local catcher that keeps each message in <output>/mail "
        "(the demo's mail server) instead of the pingan_smtp connection",
    )
    pub.set_defaults(func=_publish)

    rank = sub.add_parser("ranking", help="print a month's ranking")
    rank.add_argument("month", metavar="YYYY-MM")
    rank.add_argument("--scheme", help="one scheme code (default: every scheme)")
    rank.set_defaults(func=_ranking)

    explain = sub.add_parser(
        "explain", help="why a unit scored what it did: its items and the records behind them"
    )
    explain.add_argument("scheme", help="scheme code")
    explain.add_argument("month", metavar="YYYY-MM")
    explain.add_argument("unit", help="the unit's region code or name")
    explain.add_argument("item", nargs="?", help="one item code (default: every item)")
    explain.add_argument("--all", action="store_true", help="every record, not the first 5")
    explain.add_argument("--csv", metavar="PATH", help="also save every record as CSV")
    explain.set_defaults(func=_explain)

    quarantine = sub.add_parser(
        "quarantine", help="quarantined rows per source, file and reason (after a run)"
    )
    quarantine.add_argument("source", nargs="?", help="one source (default: every source)")
    quarantine.set_defaults(func=_quarantine)

    appeal = sub.add_parser("appeal", help="appeals (申诉) against records behind a unit's items")
    appeal_sub = appeal.add_subparsers(dest="action", required=True)
    filing = appeal_sub.add_parser("file", help="a unit contests records counted in it")
    filing.add_argument("scheme", help="scheme code")
    filing.add_argument("month", metavar="YYYY-MM")
    filing.add_argument("unit", help="the appealing unit's region code or name")
    filing.add_argument("--records", nargs="+", required=True, metavar="KEY",
                        help="record keys as `pingan explain` lists them")  # fmt: skip
    filing.add_argument("--reason", required=True, help="why they do not belong to the unit")
    filing.add_argument("--by", help="who files it")
    deciding = appeal_sub.add_parser("decide", help="accept or reject a filed appeal, once")
    deciding.add_argument("appeal_id", type=int)
    deciding.add_argument("decision", choices=("accept", "reject"))
    deciding.add_argument("--by", required=True, help="who decides")
    deciding.add_argument(
        "--move-to", metavar="UNIT", help="accept: the unit the records belong to (default: none)"
    )
    deciding.add_argument("--note", help="the decision's grounds")
    listing = appeal_sub.add_parser("list", help="appeals with their records and decisions")
    listing.add_argument("scheme", nargs="?")
    listing.add_argument("month", nargs="?", metavar="YYYY-MM")
    appeal.set_defaults(func=_appeal)

    demo = sub.add_parser("demo", help="everything from nothing, then print the latest ranking")
    demo.add_argument("--months", nargs="+", default=["2024-08", "2024-09"])
    demo.add_argument("--seed", type=int, default=20240801)
    demo.add_argument(
        "-v", "--verbose", action="store_true", help="print everything Airflow and dbt say"
    )
    demo.set_defaults(func=_demo)

    af = sub.add_parser(
        "airflow", help="Airflow on 127.0.0.1 with the DAGs, the warehouse and simulated sources"
    )
    af.add_argument("--port", type=int, default=8080)
    af.add_argument("--months", nargs="+", default=["2024-08", "2024-09"],
                    help="months the simulated sources hold (and --backfill runs)")  # fmt: skip
    af.add_argument("--seed", type=int, default=20240801)
    af.add_argument("--backfill", action="store_true",
                    help="`airflow backfill create` pingan_monthly over --months")  # fmt: skip
    af.add_argument("--sign-off-as", metavar="NAME",
                    help="with --backfill: sign every draft as NAME through the API")  # fmt: skip
    af.add_argument("--screenshot", metavar="PNG", help="save the monthly DAG's grid")
    af.add_argument("--exit", action="store_true", help="stop after --backfill/--screenshot")
    af.add_argument("--fresh", action="store_true",
                    help="start from an empty Airflow metadata database (run history)")  # fmt: skip
    af.set_defaults(func=_airflow)

    manifest = sub.add_parser(
        "manifest", help="dbt parse into dbt_project/target/manifest.json (the DAGs read it)"
    )
    manifest.add_argument("--force", action="store_true", help="even if it is current")
    manifest.set_defaults(func=_manifest)

    sums = sub.add_parser(
        "checksums",
        help="checksums of every mart and spreadsheet, to compare two runs of the same months",
    )
    sums.set_defaults(func=_checksums)

    gen = sub.add_parser(
        "generate",
        help="mirror the source registry (sources/) into dbt_project.yml: model paths, vars",
    )
    gen.add_argument("--check", action="store_true", help="only report, exit 1 if out of date")
    gen.set_defaults(func=_generate)

    bi = sub.add_parser(
        "bi", help="Superset on 127.0.0.1 with the dashboard 平安指数看板 (as pingan_bi_reader)"
    )
    bi.add_argument("--port", type=int, default=None, help="default 8088 (PINGAN_BI_PORT)")
    bi.add_argument("--stop", action="store_true", help="stop the Superset `pingan bi` started")
    bi.add_argument(
        "--superset-url",
        metavar="URL",
        help="provision a Superset run elsewhere (compose): PINGAN_BI_ADMIN_PASSWORD",
    )
    bi.add_argument(
        "--screenshot", metavar="PNG", help="also save the dashboard as drawn in headless chromium"
    )
    bi.set_defaults(func=_bi)

    docs = sub.add_parser("docs", help="the dbt docs site (static) under output/dbt-docs/")
    docs.set_defaults(func=_docs)

    scheme = sub.add_parser("scheme", help="validate, show or load indicator schemes")
    scheme_sub = scheme.add_subparsers(dest="action", required=True)
    check = scheme_sub.add_parser("validate", help="check scheme files; problems name the fix")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--regions", action="append", metavar="CSV",
        help="region master or division CSV for the scope check (repeatable; default: the "
        "region master if it exists, else data/regions/*.csv)",
    )  # fmt: skip
    show = scheme_sub.add_parser("show", help="print a scheme's tree with points")
    show.add_argument("file", metavar="FILE")
    compare = scheme_sub.add_parser(
        "compare", help="score two scheme files over the same months, publishing nothing"
    )
    compare.add_argument("scheme_a", metavar="A.yaml")
    compare.add_argument("scheme_b", metavar="B.yaml")
    compare.add_argument("--months", nargs="+", required=True, metavar="YYYY-MM")
    compare.add_argument("--xlsx", help="where to write the workbook (default output/compare/)")
    load = scheme_sub.add_parser("load", help="load every scheme file into schemes.*")
    load.add_argument("--dir", help="scheme folder (default: PINGAN_SCHEMES_DIR or schemes/)")
    scheme.set_defaults(func=_scheme)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        if args.command in ("run", "demo", "airflow"):
            from pingan_transforms.orchestrate import apply_airflow_env

            apply_airflow_env(settings)
        return int(args.func(args, settings))
    except ConfigError as exc:
        print(f"pingan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) outside a month's run
        print("pingan: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a failed run: one line of what failed, details are in the logs
        from pingan_transforms.console import Interrupted
        from pingan_transforms.orchestrate import DagRunFailed
        from pingan_transforms.transform import DbtError

        if isinstance(exc, DagRunFailed | DbtError):
            print(f"pingan: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, Interrupted):
            print(f"pingan: {exc}", file=sys.stderr)
            return 130
        from psycopg.errors import UndefinedTable

        if isinstance(exc, UndefinedTable):  # the marts are built by a month's first run
            print(
                f"pingan: no month has been scored in this warehouse yet "
                f"({exc.diag.message_primary}): run one first, `pingan run YYYY-MM "
                "--sign-off-as NAME` (or `make demo`)",
                file=sys.stderr,
            )
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
