"""`orchestrate plan` shows the walk apply makes: the first state from the world as it is, each
later state from the one before (pure), and which state the world is in. Commands run in one
embedded world (open_backend is replaced, as in test_preflight), so apply then plan see the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.reconcile.observe import plan_from_state
from orchestrator.reconcile.plan import Action, Plan
from orchestrator.resources.context import UNKNOWN, RunContext

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")

THREE_STATES = """\
name: three-states
region: us-east-1
users:
  admin: {managed_policies: [AdministratorAccess]}
policies:
  use-key:
    document:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: "kms:DescribeKey", Resource: "key:data"}
keys:
  data:
    aliases: [alias/walk-data]
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Admin, Effect: Allow, Principal: {AWS: "user:admin"}, Action: "kms:*", Resource: "*"}
tables:
  orders:
    partition_key: {name: order_id, type: S}
    encryption: key:data
states:
  - name: first
  - name: middle
    patch:
      keys:
        data: {tags: {stage: middle}}
  - name: last
    patch:
      keys:
        data: {tags: {stage: last}, spec: RSA_2048, usage: SIGN_VERIFY}
      tables:
        orders: {encryption: aws-owned}
"""


@pytest.fixture
def three(tmp_path: Path) -> str:
    path = tmp_path / "three-states.yaml"
    path.write_text(THREE_STATES)
    return str(path)


def plan_json(argv: list[str], capsys: pytest.CaptureFixture[str], code: int) -> dict[str, Any]:
    assert main(["plan", *argv, "--output", "json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def plan_text(argv: list[str], capsys: pytest.CaptureFixture[str], code: int) -> str:
    assert main(["plan", *argv, "--no-color"]) == code, capsys.readouterr().err
    return capsys.readouterr().out


def test_a_fresh_world_shows_every_state_and_the_key_policy_change_between_them(
        backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    out = plan_text([SEED], capsys, 2)
    assert "State without-key-grant (1/2), from the world as it is: orchestrate will make these changes:" in out
    assert "State with-key-grant (2/2), from state without-key-grant: orchestrate will make these changes:" in out
    second = out[out.index("State with-key-grant (2/2)"):]
    assert "~ kms_key.data" in second and '"Sid": "TesterDecrypt"' in second
    assert out.splitlines()[-4:] == ["Summary:", "  state without-key-grant (1/2): 6 to create",
                                     "  state with-key-grant (2/2): 1 to update",
                                     "The world is in none of the scenario's states."]


def test_the_fresh_walk_as_json_keeps_the_first_state_at_the_top(backend: EmbeddedBackend,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_json([SEED], capsys, 2)
    assert list(plan)[0] == "format_version" and plan["format_version"] == "1"
    assert plan["state"] == "without-key-grant" and len(plan["changes"]) == 6  # as before the walk
    assert (plan["world_in_state"], plan["matching_states"], plan["no_changes"]) == (None, [], False)
    first, second = plan["states"]
    assert (first["name"], first["index"], first["from_state"]) == ("without-key-grant", 0, None)
    assert first["changes"] == plan["changes"] and first["summary"]["create"] == 6
    assert (second["name"], second["index"], second["from_state"]) == ("with-key-grant", 1, "without-key-grant")
    [change] = second["changes"]
    assert (change["address"], change["action"], [c["path"] for c in change["changes"]]) == ("kms_key.data", "update", ["policy"])
    assert second["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0, "conflict": 0}


def test_after_apply_the_world_is_in_the_last_state_and_plan_exits_0(backend: EmbeddedBackend,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED]) == 0, capsys.readouterr().err
    capsys.readouterr()
    out = plan_text([SEED], capsys, 0)
    assert out.splitlines()[0] == "No changes. The world is in state with-key-grant (2/2), the last: where apply leaves it."
    assert "  state without-key-grant (1/2): 1 to update" in out  # apply's way back through the first state
    plan = plan_json([SEED], capsys, 0)
    assert (plan["world_in_state"], plan["matching_states"], plan["no_changes"]) == ("with-key-grant", ["with-key-grant"], True)
    assert plan["states"][1]["summary"]["update"] == 1


def test_after_apply_the_first_state_alone_shows_its_changes_as_before(backend: EmbeddedBackend,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED]) == 0, capsys.readouterr().err
    capsys.readouterr()
    out = plan_text([SEED, "--state", "without-key-grant"], capsys, 2)
    assert out.splitlines()[0] == "State without-key-grant: orchestrate will make these changes:"
    assert "~ kms_key.data" in out and out.splitlines()[-1] == "Plan: 1 to update."
    plan = plan_json([SEED, "--state", "without-key-grant"], capsys, 2)
    assert list(plan) == ["format_version", "scenario", "state", "changes"]  # the single-state document
    assert plan_text([SEED, "--state", "with-key-grant"], capsys, 0).startswith("State with-key-grant: no changes.")


def test_a_world_in_a_middle_state_is_named(backend: EmbeddedBackend, three: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", three, "--state", "middle"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    out = plan_text([three], capsys, 2)
    assert out.splitlines()[-1] == "The world is in state middle (2/3)."
    assert "  state middle (2/3): 1 to update" in out
    plan = plan_json([three], capsys, 2)
    assert (plan["world_in_state"], plan["matching_states"]) == ("middle", ["middle"])
    # back to the first (the key's tags), then forward: the tags again, the key replaced, table and policy after it
    assert [(s["summary"]["update"], s["summary"]["replace"]) for s in plan["states"]] == [(1, 0), (1, 0), (2, 1)]


def test_a_replaced_key_is_known_after_apply_to_the_resources_after_it(backend: EmbeddedBackend, three: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", three, "--state", "middle"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    last = plan_json([three], capsys, 2)["states"][2]
    found = {c["address"]: c for c in last["changes"]}
    assert found["kms_key.data"]["action"] == "replace"
    # the table leaves the key in this state; the policy names the new key, whose ARN apply learns
    assert found["dynamodb_table.orders"]["after"]["encryption"] == {"type": "aws-owned", "key": None}
    [path] = found["iam_policy.use-key"]["changes"]
    assert path["after"]["Statement"][0]["Resource"] == [UNKNOWN] and path["before"]["Statement"][0]["Resource"][0].startswith("arn:aws:kms:")
    middle = plan_json([three], capsys, 2)["states"][1]
    assert all(UNKNOWN not in json.dumps(c["after"]) for c in middle["changes"])  # the key exists: its ARN is known


def test_a_fresh_walk_knows_no_arn_of_a_key_it_creates(backend: EmbeddedBackend, three: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_json([three], capsys, 2)
    first, middle, _ = plan["states"]
    assert first["summary"]["create"] == 5 and middle["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0, "conflict": 0}
    # the table and the policy name the key by an ARN unknown in both states: no change is made up for them
    [change] = middle["changes"]
    assert change["address"] == "kms_key.data" and change["before"]["tags"] == {}


def test_a_conflict_in_a_later_state_is_shown_in_that_state(backend: EmbeddedBackend, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """apply's preflight refuses an alias a later state adds that names someone else's key."""
    path = tmp_path / "later.yaml"
    path.write_text(THREE_STATES.replace("data: {tags: {stage: middle}}", "data: {aliases: [alias/walk-data, alias/taken]}"))
    kms = backend.client("kms")
    kms.create_alias(AliasName="alias/taken", TargetKeyId=kms.create_key(Description="someone else's")["KeyMetadata"]["KeyId"])
    plan = plan_json([str(path)], capsys, 2)
    first, middle, _ = plan["states"]
    assert first["summary"]["conflict"] == 0
    [change] = middle["changes"]
    assert change["action"] == "conflict" and "alias/taken exists and points at key " in change["reason"]


class NoAws:
    """A backend that refuses every call: the walk's later steps must not need one."""

    region = "us-east-1"
    account_id = "123456789012"

    def identity(self) -> dict[str, str]:
        return {"Account": self.account_id, "Arn": f"arn:aws:iam::{self.account_id}:user/x", "UserId": "x"}

    def client(self, *args: object, **kwargs: object) -> Any:
        raise AssertionError(f"the pure step called AWS: client{args}")


def test_a_later_step_is_computed_without_calling_aws() -> None:
    loaded = load_scenario(SEED)
    ctx = RunContext(NoAws(), loaded.scenario.name)  # type: ignore[arg-type]
    ctx.declare(loaded.desired)
    ctx.known["key:data"] = "arn:aws:kms:us-east-1:123456789012:key/k"
    world: dict[str, Any] = {}
    first = plan_from_state(ctx, loaded.desired[0], "without-key-grant", world, Plan("without-key-grant"))
    assert {c.action for c in first.changes} == {Action.CREATE}
    second = plan_from_state(ctx, loaded.desired[1], "with-key-grant", world, Plan("with-key-grant"))
    [change] = second.pending
    assert (change.address, change.action, [p.path for p in change.properties]) == ("kms_key.data", Action.UPDATE, ["policy"])
    assert plan_from_state(ctx, loaded.desired[1], "again", world, Plan("again")).pending == []
