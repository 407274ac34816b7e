"""The files of every publication, kept in the warehouse: a published month's files are
what was mailed, byte for byte, whatever the marts hold later.

A month's numbers change after it went out (late records, corrections). The monthly
run of a published month must not replace the ranking files an office already sent to
the towns with files of numbers nobody signed. So :func:`keep` stores each file a
publication was drafted with (bulletin HTML and PDF, ranking xlsx, csv and json) in
``publish.publication_files``, in the transaction that records the publication, and
:func:`restore` writes the revision in force of a month back under the output folder:

- the ranking files to ``rankings/<scheme>_<YYYY-MM>.{xlsx,csv,json}``, where the
  month's ranking always is (a revision's draft sits in ``rankings/revisions/r<n>/``
  until it is signed);
- the bulletin to ``bulletins/``, under the name it was drafted with.

The bytes are the source of truth, not the folder: deleting ``output/`` and re-running
a published month gives back the same files. The warehouse is the store that is backed
up; a bulletin with its PDF and workbook is some hundreds of kilobytes a month.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import psycopg

from pingan_transforms.fileio import atomic_write_bytes
from pingan_transforms.months import Month

RANKING_KINDS = ("xlsx", "csv", "json")


def keep(
    conn: psycopg.Connection,
    scheme_code: str,
    month: Month,
    revision: int,
    files: Mapping[str, str],
    output_dir: Path,
) -> None:
    """Store the publication's files (kind -> path as drafted) with its row."""
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into publish.publication_files (scheme_code, month_start, revision, kind,
                path, content, sha256)
            values (%s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (scheme_code, month.first_day, revision, kind, _relative(Path(path), output_dir),
                 data, hashlib.sha256(data).hexdigest())
                for kind, path in sorted(files.items())
                for data in [Path(path).read_bytes()]
            ],
        )  # fmt: skip


def _relative(path: Path, output_dir: Path) -> str:
    """The file's place under the output folder (its name when drafted elsewhere)."""
    try:
        return path.resolve().relative_to(output_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def restore(
    conn: psycopg.Connection, scheme_code: str, month: Month, output_dir: Path
) -> list[Path] | None:
    """Write the files of the month's revision in force back under ``output_dir``;
    None when the month has no kept files (unpublished, or published before files
    were kept: the caller renders it from the marts)."""
    rows = conn.execute(
        """
        select kind, path, content, sha256 from publish.publication_files
        where scheme_code = %s and month_start = %s and revision = (
            select max(revision) from publish.publications
            where scheme_code = %s and month_start = %s
        )
        order by kind
        """,
        (scheme_code, month.first_day, scheme_code, month.first_day),
    ).fetchall()
    if not rows:
        return None
    written = []
    for kind, path, content, sha256 in rows:
        data = bytes(content)
        if hashlib.sha256(data).hexdigest() != sha256:  # a damaged copy is never written out
            raise RuntimeError(
                f"publish.publication_files: the kept {kind} of {scheme_code} {month} does not "
                f"match its SHA-256 {sha256}: restore the warehouse from a backup"
            )
        if kind in RANKING_KINDS:
            target = output_dir / "rankings" / f"{scheme_code}_{month}.{kind}"
        else:
            target = output_dir / path
        if not (target.exists() and target.read_bytes() == data):
            atomic_write_bytes(target, data)
        written.append(target)
    return written
