"""bench/measured.py reports the measured command's own peak memory, not the bench's: Linux carries
getrusage's ru_maxrss across exec from the forking process, so a command started by a bench that
has grown would report the bench's size."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_command_started_by_a_grown_process_reports_its_own_peak(tmp_path: Path) -> None:
    grown = bytearray(256 * 1024 * 1024)
    grown[::4096] = b"\x01" * len(grown[::4096])  # touched: resident in this process
    out = tmp_path / "figures.json"
    subprocess.run([sys.executable, "-m", "bench.measured", "orchestrator.cli", "--version"], cwd=ROOT,
                   env={**os.environ, "BENCH_OUT": str(out)}, stdout=subprocess.DEVNULL, check=True)
    figures = json.loads(out.read_text())
    del grown
    assert figures["exit"] == 0
    assert 1024 < figures["maxrss_kib"] < 128 * 1024  # `orchestrate --version` is tens of MiB, not 256
