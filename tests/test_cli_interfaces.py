"""The interfaces every command shares: one JSON envelope, `--version`, a current CI example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
# The first major of each action whose action.yml runs on node24 (node20 is deprecated on
# GitHub-hosted runners): checkout v5, setup-python v6, upload-artifact v6.
NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "actions/upload-artifact": 6,
                 "actions/download-artifact": 7}


def _json_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    main(argv)
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("argv", [
    ["validate", SEED, "--output", "json"],
    ["plan", SEED, "--output", "json"],
    ["drift", SEED, "--output", "json"],
    ["apply", SEED, "--output", "json"],
    ["destroy", SEED, "--output", "json"],
    ["matrix", SEED, "--jobs", "1", "--output", "json"],
], ids=lambda argv: argv[0])
def test_every_command_speaks_one_envelope(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    document = _json_of(argv, capsys)
    assert document["format_version"] == "1", f"{argv[0]} does not carry format_version '1'"
    assert "version" not in document


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"orchestrate {version('orchestrate')}"


def test_the_ci_example_uses_actions_on_a_current_runtime() -> None:
    workflow = (ROOT / ".github" / "workflows" / "scenarios.yml").read_text()
    # pinned to a commit, the version in the comment (tests/test_cli_workflow.py)
    used = re.findall(r"uses:\s*([\w-]+/[\w-]+)@[0-9a-f]{40} # v(\d+)", workflow)
    assert used, "the workflow names no action"
    for action, major in used:
        assert action in NODE24_MAJORS, f"{action} is not known to run on node24"
        assert int(major) >= NODE24_MAJORS[action], f"{action}@v{major} runs on the deprecated node20"
