"""`orchestrate matrix` end to end on the embedded default, the pytest plugin, the example workflow."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"
VIA = ROOT / "scenarios" / "kms-via-service.yaml"


@pytest.fixture()
def two_scenarios(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.yaml")
    broken = VIA.read_text().replace("expect: denied", "expect: allowed", 1)
    (folder / "via.yaml").write_text(broken)
    return folder


def test_matrix_runs_in_workers_and_writes_one_suite_per_scenario(two_scenarios: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "junit.xml"
    assert main(["matrix", str(two_scenarios), "--jobs", "2", "--junit", str(junit), "--output", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in report["scenarios"]] == ["kms-dynamodb-access", "kms-via-service"]
    suites = ElementTree.parse(junit).getroot().findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("kms-dynamodb-access", "7", "0"), ("kms-via-service", "6", "1")]  # expectations and guarantees


def test_markdown_and_github_outputs_name_the_failure(two_scenarios: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(two_scenarios / "via.yaml"), "--output", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "| `kms-via-service` | ❌ failed | 5 | 1 |" in markdown
    assert "tester kms:Decrypt key:data: expected allowed, actual denied" in markdown
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["matrix", str(two_scenarios / "via.yaml"), "--output", "github"]) == 1
    annotation = capsys.readouterr().out
    assert annotation.startswith(f"::error file={two_scenarios / 'via.yaml'},line=56,col=9,"
                                 "title=kms-via-service via-dynamodb-only%3A tester kms%3ADecrypt key%3Adata failed::")
    assert "### orchestrate scenario matrix" in summary.read_text()


def test_a_scenario_that_cannot_run_is_exit_3(two_scenarios: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", str(two_scenarios / "seed.yaml"), "--endpoint-url", "http://127.0.0.1:9"]) == 3
    assert "error  kms-dynamodb-access" in capsys.readouterr().out


def test_invalid_scenario_stops_the_matrix_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text("name: x\n")
    assert main(["matrix", str(tmp_path)]) == 2
    assert "missing required field 'states'" in capsys.readouterr().err


def test_shard_runs_only_its_part(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--list", "--shards", "3", "--output", "github"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert len(include) == 3
    assert main(["matrix", "--shard", "2/3", "--output", "json"]) == 0
    ran = [s["file"] for s in json.loads(capsys.readouterr().out)["scenarios"]]
    assert ran == include[1]["scenarios"]


def pytest_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_pytest_collects_one_item_per_expectation_and_guarantee_and_reports_failures(two_scenarios: Path) -> None:
    seed = two_scenarios / "seed.yaml"
    # the first state's first guarantee made one the key does not keep: its account's other
    # principals (delegated to by the key policy) may decrypt too
    seed.write_text(seed.read_text().replace("no_access_from: outside-account", "only: [user:tester]", 1))
    listed = pytest_subprocess("--collect-only", "-q", str(two_scenarios), cwd=two_scenarios.parent)
    items = [line.replace(str(two_scenarios.parent) + "/", "") for line in listed.stdout.splitlines() if "::" in line]
    assert len(items) == 13  # 3 + 4 expectations, 4 + 2 guarantees
    assert f"{two_scenarios.name}/seed.yaml::without-key-grant/tester/dynamodb:GetItem/table:orders" in items[0]
    assert f"{two_scenarios.name}/seed.yaml::without-key-grant/guarantee#1/key:data" in items
    result = pytest_subprocess("-q", "-n", "2", str(two_scenarios), cwd=two_scenarios.parent)
    assert result.returncode == 1, result.stdout
    assert "11 passed" in result.stdout and "2 failed" in result.stdout, result.stdout
    assert "expected allowed, actual denied" in result.stdout
    assert "guarantee only user:tester may kms:Decrypt on key:data:" in result.stdout
    assert "expected proved, decided violated" in result.stdout and "witness: arn:aws:" in result.stdout
    selected = pytest_subprocess("-q", "-k", "tester and GetItem", str(two_scenarios), cwd=two_scenarios.parent)
    assert selected.returncode == 0 and "3 passed" in selected.stdout


def test_example_workflow_parses_and_calls_real_commands() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "scenarios.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = [step["run"] for step in steps if "run" in step and step["run"].startswith(("orchestrate", "echo"))]
    assert len(commands) == 2
    parser = build_parser()
    for command in commands:  # the shard comes through env: (no template expanded in a script)
        words = command.split("$(")[-1].split(")")[0].split(">>")[0].replace('"$SHARD"', "1/3").split()
        assert words[0] == "orchestrate"
        parser.parse_args(words[1:])  # raises SystemExit on an option that does not exist
    assert workflow["jobs"]["scenarios"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"


def test_pytest_mutate_reports_each_scenarios_mutation_score(two_scenarios: Path) -> None:
    """`pytest --mutate`: a line per scenario with its score, under xdist too (user properties)."""
    from orchestrator.analysis.mutate import mutation_report
    from orchestrator.loader import load_scenario

    expected = mutation_report(load_scenario(two_scenarios / "seed.yaml"))
    result = pytest_subprocess("-q", "-n", "2", "--mutate", str(two_scenarios), cwd=two_scenarios.parent)
    assert "orchestrate mutation scores" in result.stdout, result.stdout
    line = next(line for line in result.stdout.splitlines() if line.endswith(")") and "seed.yaml: mutation score" in line)
    assert f"mutation score {expected.score:.2f} ({expected.count('killed')} of" in line
    plain = pytest_subprocess("-q", str(two_scenarios / "seed.yaml"), cwd=two_scenarios.parent)
    assert "mutation score" not in plain.stdout


def test_two_files_with_one_scenario_name_are_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On one endpoint they would share one namespace (names, tags, lock): one errored every round."""
    shutil.copy(SEED, tmp_path / "a.yaml")
    shutil.copy(SEED, tmp_path / "b.yaml")
    assert main(["matrix", str(tmp_path), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"orchestrate matrix: {tmp_path / 'a.yaml'} and {tmp_path / 'b.yaml'} are both scenario"
                            " 'kms-dynamodb-access': a matrix runs each scenario once, under its name (on a shared"
                            " endpoint or account its resources' names, tags and lock); give one of them another `name:`\n")
    assert captured.out == ""


def test_a_matrix_scenario_takes_the_world_lock_apply_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Held by another process (here: this test), the scenario is refused before any call."""
    from orchestrator.backends.lock import world_lock
    from orchestrator.matrix.worker import namespace

    monkeypatch.setenv("ORCHESTRATE_LOCK_DIR", str(tmp_path / "locks"))
    endpoint = "http://127.0.0.1:9"
    with world_lock(f"the endpoint {endpoint}", "kms-dynamodb-access", namespace(None, "kms-dynamodb-access")):
        assert main(["matrix", str(SEED), "--endpoint-url", endpoint, "--output", "json"]) == 3
    error = json.loads(capsys.readouterr().out)["scenarios"][0]["error"]
    assert "is changing scenario kms-dynamodb-access (run mx-" in error and f"on the endpoint {endpoint}" in error, error


@pytest.fixture(scope="module")
def lagging_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`orchestrate serve` whose changes take 3 s to propagate: each scenario settles its
    expectations, so it runs for seconds after it has made its users."""
    from orchestrator.backends.serve import spawned

    with open(tmp_path_factory.mktemp("serve") / "stderr.log", "w+") as log, \
            spawned(log, "--propagation-delay", "3") as url:
        yield url


def matrix_under_way(endpoint: str, folder: Path) -> tuple[subprocess.Popen[str], Any]:
    """`orchestrate matrix` of the two scenarios, two workers, once each has made a user."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=DEFAULT_ADMIN.access_key_id,  # serve authenticates (issue 21)
                       aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)
    process = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "matrix", str(folder), "--jobs", "2",
                                "--endpoint-url", endpoint, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len({user["UserName"][:9] for user in iam.list_users()["Users"]}) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the matrix made no user in 60 s"
        time.sleep(0.05)
    return process, iam


def test_a_stopped_matrix_waits_for_its_scenarios_cleanup_and_says_what_each_left(lagging_endpoint: str,
                                                                                   two_scenarios: Path) -> None:
    process, iam = matrix_under_way(lagging_endpoint, two_scenarios)
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, err
    words = f"nothing was left: its destroy removed what it made on the endpoint {lagging_endpoint}"
    assert err == ("terminated\nmatrix stopped with 0 of 2 scenarios finished:\n"
                   f"  {two_scenarios / 'seed.yaml'} (kms-dynamodb-access): {words}\n"
                   f"  {two_scenarios / 'via.yaml'} (kms-via-service): {words}\n")
    assert iam.list_users()["Users"] == []


def test_workers_clean_up_and_die_with_a_killed_matrix(lagging_endpoint: str, two_scenarios: Path) -> None:
    """SIGKILL of the matrix: its workers stop their scenarios as SIGTERM would, say what they
    left, and exit, letting go of the output (before: they held it for more than 300 s)."""
    process, iam = matrix_under_way(lagging_endpoint, two_scenarios)
    workers = children(process.pid)
    process.send_signal(signal.SIGKILL)
    try:
        _, err = process.communicate(timeout=60)  # EOF: every holder of the pipes, the workers too, is gone
    finally:
        for pid in children_alive(workers):
            os.kill(pid, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert err.count("orchestrate matrix: the matrix process is gone; ") == 2, err
    assert err.count("nothing was left: its destroy removed what it made") == 2, err
    assert iam.list_users()["Users"] == []


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (Linux's /proc; the test is skipped elsewhere)."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    assert found, "the matrix has no worker"
    return found


def children_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive
