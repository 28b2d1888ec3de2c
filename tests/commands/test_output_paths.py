"""Each command's output file (issue 21, item 3): `--junit` of apply and matrix, `-o` of export,
import and access. A path that cannot be written is one message and exit 2 (never 1, which says
an expectation failed, and never a traceback), refused before the run where it can be; a write
that fails late keeps the verdict printed and the old file whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import orchestrator.session
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "explicit-deny-wins.yaml")
TEMPLATE = str(ROOT / "tests" / "imports" / "data" / "seed.yaml")


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if a command opens a backend: refusals must come before anything is made."""
    def refused(*_: Any, **__: Any) -> None:
        raise AssertionError("a backend was opened")

    monkeypatch.setattr(orchestrator.session, "backend_session", refused)
    import orchestrator.commands.matrix as matrix

    monkeypatch.setattr(matrix, "run_one", refused)


def _unwritable(tmp_path: Path) -> list[str]:
    paths = [str(tmp_path), str(tmp_path / "missing" / "report.xml")]
    return paths + (["/dev/full"] if os.path.exists("/dev/full") else [])


def _one_message(err: str, path: str) -> None:
    assert f"{path}: cannot write" in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", ["apply", "run"])
def test_apply_junit_onto_a_directory_or_a_missing_folder_is_refused_before_the_run(
        command: str, tmp_path: Path, no_backend: None, capsys: pytest.CaptureFixture[str]) -> None:
    for path in _unwritable(tmp_path)[:2]:
        assert main([command, SCENARIO, "--junit", path, "--quiet"]) == 2
        _one_message(capsys.readouterr().err, path)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_apply_junit_onto_dev_full_prints_the_verdict_then_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SCENARIO, "--junit", "/dev/full", "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert "3 passed, 0 failed" in out
    assert "/dev/full: cannot write the JUnit report: No space left on device" in err and "Traceback" not in err


def test_apply_junit_that_fails_late_prints_the_verdict_keeps_the_old_file_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "junit.xml"
    target.write_text("earlier run")
    _full_disk(monkeypatch)
    assert main(["apply", SCENARIO, "--junit", str(target), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert "3 passed, 0 failed" in out
    _one_message(err, str(target))
    assert "No space left on device (the verdicts are in the report above)" in err
    assert target.read_text() == "earlier run" and [p.name for p in tmp_path.iterdir()] == ["junit.xml"]


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills as the output is flushed to it (after the text went to the temporary file)."""
    import errno

    import orchestrator.report.output as output

    def full_disk(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", full_disk)


def test_matrix_junit_unwritable_is_exit_2_before_anything_runs(tmp_path: Path, no_backend: None,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    for path in _unwritable(tmp_path)[:2]:
        assert main(["matrix", SCENARIO, "--jobs", "1", "--junit", path]) == 2
        _one_message(capsys.readouterr().err, path)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_matrix_junit_onto_dev_full_prints_the_summary_then_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", SCENARIO, "--jobs", "1", "--quiet", "--junit", "/dev/full"]) == 2
    out, err = capsys.readouterr()
    assert "1 scenario: 7 passed" in out  # 3 expectations, 4 guarantees
    _one_message(err, "/dev/full")


def _commands(path: str) -> list[list[str]]:
    return [["export", SCENARIO, "--format", "terraform", "-o", path], ["import", TEMPLATE, "-o", path],
            ["access", SCENARIO, "-o", path]]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["export", "import", "access"])
def test_o_through_a_link_outside_its_folder_is_refused(index: int, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "theirs").write_text("theirs")
    work = tmp_path / "work"
    work.mkdir()
    (work / "out").symlink_to(outside / "theirs")
    argv = _commands(str(work / "out"))[index]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "outside its folder" in err and "--follow-symlinks" in err and "Traceback" not in err
    assert (outside / "theirs").read_text() == "theirs"
    assert main(argv + ["--follow-symlinks"]) == 0
    assert (outside / "theirs").read_text() != "theirs" and (work / "out").is_symlink()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["export", "import", "access"])
def test_o_through_a_dangling_link_is_refused_and_creates_nothing(index: int, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").symlink_to(tmp_path / "planted")
    assert main(_commands(str(tmp_path / "out"))[index] + ["--follow-symlinks"]) == 2
    assert "which does not exist" in capsys.readouterr().err
    assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["export", "import", "access"])
def test_o_that_fails_mid_write_keeps_the_old_file(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    target.write_text("earlier")
    _full_disk(monkeypatch)
    assert main(_commands(str(target))[index]) == 2
    err = capsys.readouterr().err
    assert f"{target}: cannot write" in err and "No space left on device" in err and "Traceback" not in err
    assert target.read_text() == "earlier" and [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("index", [0, 1, 2], ids=["export", "import", "access"])
def test_o_dev_full_is_exit_2(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_commands("/dev/full")[index]) == 2
    _one_message(capsys.readouterr().err, "/dev/full")


@pytest.mark.parametrize("index", [0, 1, 2], ids=["export", "import", "access"])
def test_o_onto_a_directory_is_exit_2(index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_commands(str(tmp_path))[index]) == 2
    _one_message(capsys.readouterr().err, str(tmp_path))


def test_o_dev_stdout_writes_to_standard_output(tmp_path: Path) -> None:
    """A subprocess, so that /dev/stdout is a real file descriptor 1 (a file here, as `> file`)."""
    import subprocess
    import sys

    for argv in _commands("/dev/stdout"):
        written = tmp_path / "stdout.txt"
        with written.open("w") as stdout:
            done = subprocess.run([sys.executable, "-m", "orchestrator.cli", *argv], stdout=stdout,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert len(written.read_text()) > 100 and "Traceback" not in done.stderr
