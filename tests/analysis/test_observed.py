"""The access matrix of the world as read (`orchestrate access --observed`): on a world apply
built it equals the desired state's, cell for cell; after an out-of-band change it differs in
exactly the cells the change reaches; what the world lacks (a statement, a user) reads as absent.
Commands run in one embedded world (open_backend is replaced, as in tests/reconcile/test_preflight)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.model.access import StateMatrix
from orchestrator.analysis.observed import desired_matrix, observed_matrix
from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import LoadedScenario, load_scenario
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"


def context(backend: EmbeddedBackend, loaded: LoadedScenario) -> RunContext:
    ctx = RunContext(backend, loaded.scenario.name)
    ctx.declare(loaded.desired)
    return ctx


def applied(backend: EmbeddedBackend, index: int = 0) -> LoadedScenario:
    loaded = load_scenario(SEED)
    apply_state(context(backend, loaded), loaded.desired[index], loaded.scenario.states[index].name)
    return loaded


def outcomes(state: StateMatrix) -> dict[tuple[str, str, str, str], tuple[bool, str | None, str | None]]:
    return {(p, c.resource, c.action, c.variant): (cell.allowed, cell.layer, cell.error)
            for (p, c), cell in state.cells.items()}


def differing(one: StateMatrix, other: StateMatrix) -> set[tuple[str, str, str, str]]:
    before, after = outcomes(one), outcomes(other)
    assert before.keys() == after.keys(), "the same principals and columns on both sides"
    return {slot for slot in before if before[slot] != after[slot]}


def both(backend: EmbeddedBackend, loaded: LoadedScenario, index: int = 0) -> tuple[StateMatrix, StateMatrix]:
    ctx = context(backend, loaded)
    observed = observed_matrix(ctx, loaded, [index]).states[0]
    return desired_matrix(ctx, loaded, [index]).states[0], observed


def key_policy(backend: EmbeddedBackend, loaded: LoadedScenario) -> tuple[Any, str, dict[str, Any]]:
    ctx = context(backend, loaded)
    for _ in observe_all(ctx, loaded.desired[0], observed_only=True):
        pass  # observing learns the key's ARN
    kms, arn = backend.client("kms"), ctx.known["key:data"]
    return kms, arn, json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])


def cell_key_arn(key_id: str) -> str:
    return f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"


def test_an_applied_world_decides_every_cell_as_the_desired_state(backend: EmbeddedBackend) -> None:
    loaded = applied(backend)
    desired, observed = both(backend, loaded)
    assert len(observed.cells) == len(desired.cells) > 20
    assert differing(desired, observed) == set()
    # the real ARNs, learnt while observing: the same requests on both sides
    [key_id] = [k["KeyId"] for k in backend.client("kms").list_keys()["Keys"]]
    for side in (desired, observed):
        cell = next(c for (p, col), c in side.cells.items() if p == "admin" and col.action == "kms:Decrypt")
        assert cell.allowed and [ref.policy_name for ref in cell.statements] == [f"key policy {cell_key_arn(key_id)}"]


def test_an_out_of_band_key_statement_changes_exactly_the_cells_it_reaches(backend: EmbeddedBackend) -> None:
    loaded = applied(backend)
    kms, arn, policy = key_policy(backend, loaded)
    policy["Statement"].append({"Sid": "OutOfBand", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                                "Principal": {"AWS": "arn:aws:iam::123456789012:user/tester"}})
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    desired, observed = both(backend, loaded)
    # kms:Decrypt itself, and every table read or write that needs it (the table is under the key)
    assert differing(desired, observed) == {("tester", "key:data", "kms:Decrypt", "")} | {
        ("tester", "table:orders", f"dynamodb:{op}", "")
            for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem")}
    gained = [c for (p, col), c in observed.cells.items() if p == "tester" and col.action == "kms:Decrypt"][0]
    assert gained.allowed and "OutOfBand" in {ref.sid for ref in gained.statements}


def test_a_statement_removed_out_of_band_reads_as_absent(backend: EmbeddedBackend) -> None:
    loaded = applied(backend, index=1)  # with-key-grant: TesterDecrypt in the key policy
    kms, arn, policy = key_policy(backend, loaded)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "TesterDecrypt"]
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    desired, observed = both(backend, loaded, index=1)
    assert ("tester", "key:data", "kms:Decrypt", "") in differing(desired, observed)
    lost = [c for (p, col), c in observed.cells.items() if p == "tester" and col.action == "kms:Decrypt"][0]
    assert (lost.allowed, lost.layer) == (False, "key-policy")


def test_a_user_deleted_out_of_band_makes_no_request(backend: EmbeddedBackend) -> None:
    loaded = applied(backend)
    iam = backend.client("iam")
    for attached in iam.list_attached_user_policies(UserName="tester")["AttachedPolicies"]:
        iam.detach_user_policy(UserName="tester", PolicyArn=attached["PolicyArn"])
    iam.delete_user(UserName="tester")
    desired, observed = both(backend, loaded)
    cells = {col: c for (p, col), c in observed.cells.items() if p == "tester"}
    assert cells and all(not c.allowed and c.error == "UnrecognizedClientException" for c in cells.values())
    assert ("tester", "table:orders", "dynamodb:DescribeTable", "") in differing(desired, observed)  # allowed before
    assert all(slot[0] == "tester" for slot in differing(desired, observed))


def command_cells(capsys: pytest.CaptureFixture[str], *args: str) -> dict[tuple[str, str, str, Any], tuple[str, Any]]:
    assert main(["access", str(SEED), "--output", "json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    return {(c["principal"], c["resource"], c["action"], c["variant"]): (c["decision"], c["layer"])
            for state in data["states"] for c in state["cells"]}


def test_the_command_on_the_world_equals_the_desired_matrix_then_differs_in_the_out_of_band_cells(
        backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    loaded = applied(backend)
    desired = command_cells(capsys, "--state", "without-key-grant")
    assert command_cells(capsys, "--state", "without-key-grant", "--observed") == desired
    iam = backend.client("iam")
    iam.put_user_policy(UserName="tester", PolicyName="no-grants", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"}]}))
    kms, arn, policy = key_policy(backend, loaded)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "KeyAdministration"]
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    observed = command_cells(capsys, "--state", "without-key-grant", "--observed")
    changed = {slot: observed[slot] for slot in desired if desired[slot] != observed[slot]}
    # the admin lost every key operation, management included, and every table call that needs
    # the key (DescribeTable does not); the tester's CreateGrant stays denied, now by the explicit Deny
    key_calls = ("Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey", "ReEncrypt", "CreateGrant",
                 "ScheduleKeyDeletion", "PutKeyPolicy", "GetKeyPolicy", "DisableKey", "EnableKey", "TagResource",
                 "ListGrants", "RevokeGrant")
    table_calls = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem")
    assert changed == {("admin", "key:data", f"kms:{op}", None): ("denied", "key-policy") for op in key_calls} | {
        ("admin", "table:orders", f"dynamodb:{op}", None): ("denied", "key-policy") for op in table_calls} | {
        ("tester", "key:data", "kms:CreateGrant", None): ("denied", "explicit-deny")}
