"""Every output file written one way (orchestrator/report/output.py): whole or not at all, links
leaving their folder refused unless asked, dangling links always refused, devices and FIFOs
written through, and every failure one OutputError (the commands exit 2)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import TextIO

import pytest

from orchestrator.report.output import Output, OutputError


def test_a_new_file_and_a_replaced_file_are_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    Output(str(target), "the report").write_text("one\n")
    target.chmod(0o600)
    Output(str(target), "the report").write_text("two\n")
    assert target.read_text() == "two\n" and oct(target.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.mkdir(), "Is a directory"),
    (lambda p: None, "No such file or directory (no folder"),
])
def test_a_directory_or_a_missing_folder_is_refused_up_front(tmp_path: Path, make, reason: str) -> None:
    target = tmp_path / "out"
    make(target)
    path = target if target.is_dir() else target / "x.xml"
    with pytest.raises(OutputError, match="^" + re.escape(f"{path}: cannot write the report: {reason}")):
        Output(str(path), "the report").check()


def test_a_link_outside_its_folder_is_refused_unless_asked(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "target").write_text("theirs")
    here = tmp_path / "here"
    here.mkdir()
    (here / "out").symlink_to(elsewhere / "target")
    with pytest.raises(OutputError, match="outside its folder .*--follow-symlinks"):
        Output(str(here / "out"), "the report").write_text("mine")
    assert (elsewhere / "target").read_text() == "theirs"
    Output(str(here / "out"), "the report", follow_symlinks=True).write_text("mine")
    assert (elsewhere / "target").read_text() == "mine" and (here / "out").is_symlink()


def test_a_link_within_its_folder_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "report-v2.xml").write_text("old")
    (tmp_path / "report.xml").symlink_to("report-v2.xml")
    Output(str(tmp_path / "report.xml"), "the report").write_text("new")
    assert (tmp_path / "report.xml").is_symlink() and (tmp_path / "report-v2.xml").read_text() == "new"


def test_a_dangling_link_is_refused_even_when_asked_and_nothing_is_created(tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to(tmp_path / "planted")
    for follow in (False, True):
        with pytest.raises(OutputError, match="which does not exist"):
            Output(str(tmp_path / "out"), "the report", follow).write_text("x")
    assert not (tmp_path / "planted").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_late_failure_keeps_the_old_file_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("earlier")

    def full_disk(stream: TextIO) -> None:
        stream.write("half of it")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="cannot write the report: No space left on device"):
        Output(str(target), "the report").write(full_disk)
    assert target.read_text() == "earlier" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_written_through_and_its_enospc_is_one_error() -> None:
    Output("/dev/full", "the report").check()
    with pytest.raises(OutputError, match="^/dev/full: cannot write the report: No space left on device$"):
        Output("/dev/full", "the report").write_text("x" * 10_000)
    assert os.path.exists("/dev/full")


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    Output(str(pipe), "the report").write_text("through")
    reader.join(timeout=10)
    assert received == ["through"] and [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission_is_refused_up_front(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="Permission denied"):
        Output(str(folder / "x"), "the report").check()
