"""dynamodb:CreateTable expectations on a `create_only` table: the principal creates the table
under the scenario's key, orchestrate deletes it right after, and plan/apply/drift/destroy leave
such a table alone.

AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS"
(https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html), "Key policy for a
customer managed key": creating a table under a customer managed key needs kms:DescribeKey and
kms:CreateGrant, which DynamoDB calls as the caller; DynamoDB permissions alone are not enough.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.analysis.access import access_matrix
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.export import export_state
from orchestrator.loader import ScenarioError, load_scenario

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios" / "table-create-under-key.yaml"
SCENARIO = """\
name: ct
users:
  builder:
    inline_policies:
      dynamodb-full:
        Statement:
          - {Effect: Allow, Action: "dynamodb:*", Resource: "*"}
keys:
  k:
    policy:
      Statement:
        - {Sid: Use, Effect: Allow, Principal: {AWS: "user:builder"}, Action: KMS_ACTIONS, Resource: "*"}
tables:
  kept:
    partition_key: {name: id, type: S}
  made:
    create_only: true
    partition_key: {name: id, type: S}
    sort_key: {name: at, type: N}
    encryption: key:k
states:
  - name: s
    expectations: EXPECTATIONS
"""
CREATE = "{as: builder, action: dynamodb:CreateTable, resource: table:made, expect: EXPECT}"


def write(tmp_path: Path, expectations: list[str], kms_actions: str = "[kms:DescribeKey, kms:CreateGrant]",
          text: str = SCENARIO) -> str:
    path = tmp_path / "ct.yaml"
    path.write_text(text.replace("EXPECTATIONS", "[" + ", ".join(expectations) + "]").replace("KMS_ACTIONS", kms_actions))
    return str(path)


def tables(backend: EmbeddedBackend) -> list[str]:
    return sorted(backend.client("dynamodb").list_tables()["TableNames"])


def applied(tmp_path: Path, capsys: pytest.CaptureFixture[str], expectation: str, kms_actions: str) -> tuple[int, dict[str, Any]]:
    code = main(["apply", write(tmp_path, [expectation], kms_actions), "--output", "json", "--quiet"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kms_actions, expect", [
    ("[kms:DescribeKey, kms:CreateGrant]", "allowed"),
    ("[kms:DescribeKey]", "denied"),      # no kms:CreateGrant: DynamoDB cannot create the key's grant as the caller
    ("[kms:CreateGrant]", "denied"),      # no kms:DescribeKey
])
def test_create_table_under_the_key_needs_describe_key_and_create_grant(backend: EmbeddedBackend, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        kms_actions: str, expect: str) -> None:
    code, report = applied(tmp_path, capsys, CREATE.replace("EXPECT", expect), kms_actions)
    [verdict] = report["states"][0]["expectations"]
    assert code == 0, report
    assert (verdict["actual"], verdict["predicted"]) == (expect, expect)
    if expect == "denied":
        assert verdict["layer"] == "key-policy" and verdict["error_code"] == "AccessDeniedException"
    assert tables(backend) == ["kept"]  # the principal's table is deleted right after; orchestrate never made it


def test_plan_drift_and_destroy_leave_a_create_only_table_alone(backend: EmbeddedBackend, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [CREATE.replace("EXPECT", "allowed")])
    assert main(["apply", path, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["plan", path]) == 0
    assert main(["drift", path]) == 0
    out = capsys.readouterr().out
    assert "dynamodb_table.made" not in out, out  # in sync, and the create_only table is not orchestrate's
    # a stray table of that name (not orchestrate's) is left alone by destroy
    backend.client("dynamodb").create_table(TableName="made", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                            BillingMode="PAY_PER_REQUEST")
    assert main(["drift", path]) == 0
    assert main(["destroy", path]) == 0
    assert tables(backend) == ["made"]


def test_a_delete_table_that_fails_is_a_run_error_naming_the_table_left(backend: EmbeddedBackend, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", write(tmp_path, []), "--quiet"]) == 0
    capsys.readouterr()

    def observer(_service: str, called: str, _params: dict[str, Any]) -> None:
        if called == "DeleteTable":
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "refused for the test"}}, called)
    backend.observe(observer)
    code, report = applied(tmp_path, capsys, CREATE.replace("EXPECT", "allowed"), "[kms:DescribeKey, kms:CreateGrant]")
    assert code == 3
    assert report["error"].endswith("its DeleteTable failed with InternalServerError: refused for the test;"
                                    " left: table:made (made), create_only")


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    return [str(d) for d in raised.value.diagnostics]


def test_the_loader_refuses_other_expectations_on_a_create_only_table_where_they_are(tmp_path: Path) -> None:
    text = SCENARIO.replace("EXPECTATIONS", "[{as: builder, action: dynamodb:DescribeTable, resource: table:made,"
                                            " expect: allowed}]").replace("KMS_ACTIONS", "kms:DescribeKey")
    [problem] = problems(tmp_path, text)
    assert "table 'made' is create_only" in problem and "states[0].expectations[0].action" in problem


def test_the_loader_refuses_create_table_on_a_table_orchestrate_keeps(tmp_path: Path) -> None:
    text = SCENARIO.replace("EXPECTATIONS", "[{as: builder, action: dynamodb:CreateTable,"
                                                        " resource: table:kept, expect: allowed}]")
    [problem] = problems(tmp_path, text.replace("KMS_ACTIONS", "kms:DescribeKey"))
    assert "declare the table `create_only: true`" in problem


def test_the_loader_refuses_a_create_only_table_with_items(tmp_path: Path) -> None:
    text = SCENARIO.replace("EXPECTATIONS", "[]").replace("KMS_ACTIONS", "kms:DescribeKey").replace(
        "    encryption: key:k\n", "    encryption: key:k\n    items: [{id: a, at: 1}]\n")
    [problem] = problems(tmp_path, text)
    assert "no items to seed" in problem and "tables.made" in problem


def test_the_shipped_scenario_passes_and_export_notes_the_table(backend: EmbeddedBackend, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(SHIPPED), "--quiet"]) == 0
    loaded = load_scenario(SHIPPED)
    for fmt in ("cloudformation", "terraform"):
        made = export_state(loaded, 1, fmt)
        assert any(n.address == "dynamodb_table.invoices" and "create_only" in n.reason for n in made.notes)
        assert "invoice_id" not in made.text


def test_the_access_matrix_has_a_create_table_column_for_create_only_tables_only() -> None:
    loaded = load_scenario(SHIPPED)
    matrix = access_matrix(loaded.scenario.name, loaded.scenario.region, loaded.desired,
                           [s.name for s in loaded.scenario.states], [s.expectations for s in loaded.scenario.states])
    columns = {(c.resource, c.action) for c in matrix.states[0].columns}
    assert columns == {("table:invoices", "dynamodb:CreateTable")} | {c for c in columns if c[0].startswith("key:")}
    cells = [{c.action: cell.allowed for (p, c), cell in state.cells.items() if p == "builder" and c.resource == "table:invoices"}
             for state in matrix.states]
    assert cells == [{"dynamodb:CreateTable": False}, {"dynamodb:CreateTable": True}]
