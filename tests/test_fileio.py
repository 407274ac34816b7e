"""Published files are replaced whole or not at all."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pingan_transforms.fileio import atomic_write, atomic_write_bytes, atomic_write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "out" / "排名.csv", "旧\n")

    def half(tmp: Path) -> None:
        tmp.write_text("半")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, half)
    assert path.read_text(encoding="utf-8") == "旧\n"
    assert [p.name for p in path.parent.iterdir()] == ["排名.csv"]


def test_concurrent_writers_of_one_file_never_share_a_temporary(tmp_path: Path) -> None:
    path = tmp_path / "bulletin.pdf"
    seen: list[Path] = []
    barrier = threading.Barrier(4)

    def write(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_bytes(b"x" * 100_000)
        barrier.wait(timeout=10)  # all four temporaries exist at once

    threads = [threading.Thread(target=atomic_write, args=(path, write)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 4
    assert path.read_bytes() == b"x" * 100_000
    assert atomic_write_bytes(path, b"new").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["bulletin.pdf"]
