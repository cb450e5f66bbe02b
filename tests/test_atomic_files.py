import errno
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from l3_kedro.atomic_files import (
    ensure_writable_folder,
    is_stale_partial,
    partial_name,
    remove_stale_partials,
    replace_atomically,
    writer_id,
)
from l3_kedro.errors import OutputError


def test_a_crash_mid_write_keeps_the_previous_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "best.keras"
    target.write_bytes(b"last good model")

    def crash(partial):
        partial.write_bytes(b"half a mod")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomically(target, crash)
    assert target.read_bytes() == b"last good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]
    replace_atomically(target, lambda partial: partial.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from l3_kedro.atomic_files import replace_atomically

def write(partial):
    partial.write_bytes(b"half a file")
    os.kill(os.getpid(), signal.SIGKILL)

replace_atomically(Path(sys.argv[1]), write)
"""


def _kill_a_writer_of(target: Path) -> list[Path]:
    """Run a process that dies by SIGKILL mid-write of `target`; return what it left."""
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], check=False)
    assert done.returncode == -signal.SIGKILL
    return [p for p in target.parent.iterdir() if p.name.endswith(".partial.keras")]


def test_a_writer_killed_mid_write_leaves_a_partial_that_the_next_writer_removes(tmp_path, caplog):
    target = tmp_path / "best.keras"
    target.write_bytes(b"last good model")
    stranded = _kill_a_writer_of(target)
    assert len(stranded) == 1 and stranded[0].name.startswith(".best.")
    assert target.read_bytes() == b"last good model"
    with caplog.at_level(logging.WARNING, logger="l3_kedro.atomic_files"):
        replace_atomically(target, lambda partial: partial.write_bytes(b"new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]
    assert str(stranded[0]) in caplog.text and "no longer exists" in caplog.text


def test_stale_partials_in_other_version_folders_are_removed_with_their_empty_folder(tmp_path):
    dataset = tmp_path / "store.keras"
    good = dataset / "2026-01-01T00.00.00.000Z" / "store.keras"
    good.parent.mkdir(parents=True)
    good.write_bytes(b"good")
    killed = dataset / "2026-01-02T00.00.00.000Z" / "store.keras"
    killed.parent.mkdir()
    _kill_a_writer_of(killed)
    new = dataset / "2026-01-03T00.00.00.000Z" / "store.keras"
    new.parent.mkdir()
    removed = remove_stale_partials(new)
    assert len(removed) == 1 and removed[0].parent == killed.parent
    assert not killed.parent.exists()
    assert good.read_bytes() == b"good"


def test_partials_of_live_processes_other_hosts_and_other_targets_are_kept(tmp_path):
    target = tmp_path / "best.keras"
    mine = tmp_path / partial_name("best.keras")  # this (live) process
    other_host = tmp_path / ".best.elsewhere-1.partial.keras"
    other_target = tmp_path / f".last.{writer_id()}.partial.keras"
    for path in (mine, other_host, other_target):
        path.write_bytes(b"x")
    assert remove_stale_partials(target) == []
    assert is_stale_partial(f".best.{writer_id().rsplit('-', 1)[0]}-{2**22 + 7}.partial.keras")
    assert not is_stale_partial("best.keras")


def test_a_full_disk_is_an_output_error_naming_the_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("last good")

    def full(partial):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))

    with pytest.raises(OutputError, match=r"cannot write .*table\.csv \(No space left on device\)"):
        replace_atomically(target, full)
    assert target.read_text() == "last good"


def test_output_folders_are_checked_before_any_work(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        ensure_writable_folder(a_file)
    with pytest.raises(OutputError, match="cannot write to the output folder"):
        ensure_writable_folder(a_file / "sub")
    assert ensure_writable_folder(tmp_path / "new" / "sub").is_dir()
    assert list((tmp_path / "new" / "sub").iterdir()) == []
