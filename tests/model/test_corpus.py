"""Every malformed input of the corpus gets exactly its located diagnostics, and the CLI exits 2
without a traceback. Each corpus file lists what it must produce in `# expect: LINE:COL: text` lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.loader import ScenarioError, load_scenario

CORPUS = Path(__file__).parent / "corpus"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+): (.+)$", re.MULTILINE)
# Files that cannot carry a comment.
SIDECAR = {"empty-file.yaml": [(1, 1, "the file is empty")]}


def expectations(path: Path) -> list[tuple[int, int, str]]:
    if path.name in SIDECAR:
        return SIDECAR[path.name]
    return [(int(l), int(c), text.decode()) for l, c, text in EXPECT.findall(path.read_bytes())]


FILES = sorted(CORPUS.glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_error_is_located(path: Path) -> None:
    wanted = expectations(path)
    assert wanted, f"{path.name} declares no expectation"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    got = [(d.line, d.col, d.message) for d in caught.value.diagnostics]
    assert len(got) == len(wanted), got
    for (line, col, fragment), (got_line, got_col, message) in zip(sorted(wanted), sorted(got)):
        assert (got_line, got_col) == (line, col), message
        assert message.startswith(fragment), message


def test_cli_reports_every_file_once_per_error_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "validate", str(CORPUS)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == sum(len(expectations(p)) for p in FILES)
    located = re.compile(r"^.+\.yaml:\d+:\d+: .+$")
    assert all(located.match(line) for line in lines), lines
    assert {line.split(":")[0] for line in lines} == {str(p) for p in FILES}


def test_alias_bomb_is_refused_after_bounded_work() -> None:
    # 10^7 leaves if expanded; refused after MAX_NODES visits instead of exhausting memory.
    with pytest.raises(ScenarioError) as caught:
        load_scenario(CORPUS / "alias-bomb.yaml")
    assert "alias bomb" in str(caught.value)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("name: x\nstates: &s [*s]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert len(caught.value.diagnostics) == 1
