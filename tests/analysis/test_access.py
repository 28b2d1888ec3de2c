"""`orchestrate access`: the engine's access matrix agrees with every shipped scenario's own
expectations on every cell they cover; its columns follow the language's actions per resource
kind; changes between states are the cells whose outcome differs; the command's outputs."""

from __future__ import annotations

import os

import json
from pathlib import Path

import pytest

from orchestrator.analysis.access import access_matrix, column_of, columns
from orchestrator.model.access import Column
from orchestrator.cli import main
from orchestrator.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"
#: Scenarios with an organization and a VPC endpoint (issue 23), beside the shipped ones.
GUARDRAILS = [ROOT / "tests" / "resources" / "data" / name for name in ("org-scp.yaml", "vpce-bucket.yaml")]


def matrix_of(path: Path):
    """The named principals' matrix (the class rows: test_access_classes.py)."""
    loaded = load_scenario(path)
    states = loaded.scenario.states
    return loaded, access_matrix(loaded.scenario.name, loaded.scenario.region, loaded.desired,
                                 [s.name for s in states], [s.expectations for s in states], classes=False)


@pytest.mark.parametrize("path", SCENARIOS + GUARDRAILS, ids=[p.stem for p in SCENARIOS + GUARDRAILS])
def test_matrix_agrees_with_the_scenarios_expectations(path: Path) -> None:
    """Every expectation has its cell, with the expected outcome; a layer, where the scenario
    names one for a denial, is the cell's (as `apply` judges it: prove/runner.py)."""
    loaded, matrix = matrix_of(path)
    disagreements = []
    for index, state in enumerate(loaded.scenario.states):
        for expectation in state.expectations:
            cell = matrix.states[index].cells.get((expectation.principal, column_of(loaded.desired[index], expectation)))
            assert cell is not None, f"{state.name}: no cell for {expectation}"
            wanted = expectation.expect == "allowed"
            layer_ok = wanted or expectation.layer is None or expectation.layer == cell.layer
            if cell.allowed != wanted or not layer_ok:
                disagreements.append(f"{state.name}: {expectation.principal} {expectation.action} {expectation.resource}"
                                     f" expected {expectation.expect}/{expectation.layer}, matrix {cell.label}: {cell.reason}")
    assert disagreements == []


def test_columns_follow_the_key_usage_and_every_resource_kind() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "asymmetric-signing.yaml")
    keys = loaded.desired[0].keys
    found = {(c.resource, c.action) for c in columns(loaded.desired[0])}
    signing = [name for name, key in keys.items() if key.usage == "SIGN_VERIFY"]
    assert signing and all({(f"key:{n}", "kms:Sign"), (f"key:{n}", "kms:GetPublicKey")} <= found for n in signing)
    # GenerateDataKey needs a symmetric key; Sign a SIGN_VERIFY one (InvalidKeyUsageException otherwise)
    assert all((f"key:{n}", "kms:GenerateDataKey") not in found and (f"key:{n}", "kms:Decrypt") not in found for n in signing)
    seed = load_scenario(SEED)
    seed_columns = columns(seed.desired[0])
    assert Column("table:orders", "dynamodb:Scan") in seed_columns
    assert Column("key:data", "kms:Decrypt") in seed_columns
    assert not any(c.action == "kms:Sign" for c in seed_columns)  # InvalidKeyUsage, not an access decision


def test_seed_changes_are_testers_key_policy_grant() -> None:
    _, matrix = matrix_of(SEED)
    assert matrix.changes[0] == []
    changed = {(c.after.principal, c.after.column.action, c.after.column.resource) for c in matrix.changes[1]}
    assert ("tester", "kms:Decrypt", "key:data") in changed and ("tester", "dynamodb:GetItem", "table:orders") in changed
    assert all(c.after.principal == "tester" and c.after.allowed and c.before.layer == "key-policy" for c in matrix.changes[1])
    first = matrix.states[0]
    assert first.cell("admin", Column("table:orders", "dynamodb:GetItem")).allowed
    assert {ref.sid for ref in first.cell("admin", Column("key:data", "kms:Decrypt")).statements} >= {"KeyAdministration"}


def test_an_expectation_with_a_context_gets_a_variant_column() -> None:
    loaded, matrix = matrix_of(ROOT / "scenarios" / "kms-grant.yaml")
    variants = [c for c in matrix.states[0].columns if c.variant]
    assert variants and all(json.loads(c.variant) for c in variants)
    assert any("encryption_context" in json.loads(c.variant) for c in variants)


def test_json_output_counts_and_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", str(SEED), "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert next(iter(data)) == "format_version"
    rows = len(data["states"][0]["principals"])  # the named (admin, tester) and the classes nobody named
    assert rows == 2 + len(data["states"][0]["classes"])
    assert data["cell_count"] == sum(len(s["cells"]) for s in data["states"]) == 2 * rows * len(data["states"][0]["columns"])
    assert [c["to"] for c in data["changes"]] == ["with-key-grant"]
    words = [c["words"] for c in data["changes"][0]["cells"]]
    assert "tester gained kms:Decrypt key:data: denied (key-policy) -> allowed" in words


def test_text_markdown_state_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", str(SEED), "--state", "with-key-grant"]) == 0
    text = capsys.readouterr().out
    assert "state with-key-grant:" in text and "state without-key-grant" not in text
    assert main(["access", str(SEED), "--output", "markdown", "-o", str(tmp_path / "m.md")]) == 0
    markdown = (tmp_path / "m.md").read_text()
    assert "| tester | denied (key-policy) |" in markdown and "tester gained kms:Decrypt key:data" in markdown


def test_bad_input_exits_2_with_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nstates: [\n")
    assert main(["access", str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:" in err and "Traceback" not in err
    assert main(["access", str(SEED), "--state", "nope"]) == 2
    assert "no state named 'nope'" in capsys.readouterr().err
    assert main(["access", str(SEED), "-o", str(tmp_path / "missing" / "x.txt")]) == 2
    assert "cannot write the access matrix" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`orchestrate access ... | head`: the JSON (megabytes) outgrows the pipe; the command ends quietly."""
    import subprocess
    import sys

    import yaml

    sys.path.insert(0, str(ROOT))
    from bench.access import scenario

    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(scenario(20, 5, 3)))
    process = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "access", str(path), "--output", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(100).startswith(b'{\n  "format_version": "1"')
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert b"Traceback" not in process.stderr.read()


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-o PATH is replaced whole or not at all (written beside it, then renamed)."""
    import orchestrator.commands.access as command

    out = tmp_path / "matrix.json"
    out.write_text("earlier matrix")

    def interrupted(data: dict, stream) -> None:
        stream.write('{"format_version": ')
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "write_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        command._access(build_args(["access", str(SEED), "--output", "json", "-o", str(out)]))
    assert out.read_text() == "earlier matrix" and [p.name for p in tmp_path.iterdir()] == ["matrix.json"]


def build_args(argv: list[str]):
    from orchestrator.cli import build_parser

    return build_parser().parse_args(argv)


def test_output_to_a_named_pipe_writes_through_it_and_leaves_it_a_pipe(tmp_path: Path) -> None:
    """`-o /dev/null` (the bench's) or a FIFO: written to like stdout; renaming the temporary file
    onto it, as for a regular file, would put a regular file in its place (as root, /dev/null's)."""
    import json
    import stat
    import threading

    pipe = tmp_path / "matrix.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    assert main(["access", str(SEED), "--output", "json", "-o", str(pipe)]) == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert json.loads(received[0])["states"]
    assert not list(tmp_path.glob(".*.partial"))


def test_a_session_is_its_own_column_and_the_default_keeps_the_plain_session() -> None:
    """Session fields are part of the variant; each role's cell there is a session of that role
    with them (the reader's session policy denies s3:PutObject), the default column's is the plain
    session's, and a role chained via itself makes no request."""
    loaded, matrix = matrix_of(ROOT / "scenarios" / "role-sessions.yaml")
    state, desired = matrix.states[0], loaded.desired[0]
    reader = next(e for e in loaded.scenario.states[0].expectations if e.session_name == "reader" and e.expect == "denied")
    column = column_of(desired, reader)
    assert json.loads(column.variant)["session_name"] == "reader" and "session_policy" in json.loads(column.variant)
    assert state.cell("role:worker", column).layer == "session-policy"
    assert state.cell("role:worker", Column("object:shared-docs/by-worker.txt", "s3:PutObject")).allowed
    chained = next(e for e in loaded.scenario.states[0].expectations if e.via == "role:hop")
    assert json.loads(column_of(desired, chained).variant)["via"] == "role:hop"
    assert state.cell("role:hop", column_of(desired, chained)).error == "PreparationFailed"
    assert state.cell("role:target", column_of(desired, chained)).allowed


def test_a_vpc_endpoint_is_a_variant_column_and_guardrail_denials_name_their_layer() -> None:
    """An expectation's `vpc_endpoint` is a request of its own (the endpoint policy is one more
    layer: PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"), and an
    SCP's explicit deny is the `scp` layer, as AWS's message names it (IAM User Guide,
    "Troubleshoot access denied error messages"), not a generic explicit deny."""
    loaded, matrix = matrix_of(GUARDRAILS[1])
    cells = matrix.states[0].cells
    through = {column.action: cell for (principal, column), cell in cells.items()
               if column.variant and json.loads(column.variant) == {"vpc_endpoint": "s3-endpoint"}}
    assert through["s3:GetObject"].allowed and (through["s3:ListBucket"].allowed, through["s3:ListBucket"].layer) == (False, "vpc-endpoint")
    plain = cells[("reader", Column("object:vpce-docs/report.txt", "s3:GetObject", ""))]
    assert (plain.allowed, plain.layer) == (False, "explicit-deny")
    _, matrix = matrix_of(GUARDRAILS[0])
    guarded, unguarded = (state.cells[("prod-admin", Column("key:prod-key", "kms:ScheduleKeyDeletion", ""))] for state in matrix.states)
    assert (guarded.allowed, guarded.layer, unguarded.allowed) == (False, "scp", True)
    assert "SCP NoKeyDeletion attached to unit prod" in guarded.reason
