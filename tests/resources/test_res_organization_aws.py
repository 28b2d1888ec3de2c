"""The organization on real AWS (`--target aws`), with moto's Organizations standing in for AWS
under mock_aws, as tests/backends/test_profile_for.py stands it in for STS and IAM.

The organization is the administrators': made here before orchestrate runs, with a unit
`workloads` holding a member account and an SCP `Foreign` attached to it, neither tagged.
orchestrate never creates an organization there; without --manage-organization a difference is
drift (plan and drift exit 2) and apply refuses it (exit 3, naming the flag); with it orchestrate
creates, attaches, detaches and deletes only the SCPs and units it tags, listing the accounts
each change reaches before it makes any (resources/organization_changes.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.backends.aws import AwsBackend
from orchestrator.cli import main
from orchestrator.constants import DEFAULT_ACCOUNT, DEFAULT_REGION

SCP = "SERVICE_CONTROL_POLICY"
FOREIGN = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}'


@dataclass
class World:
    client: Any
    root: str
    workloads: str
    member: str
    foreign: str


def _scenario(member: str, *, units: str = "", sandbox_accounts: str = "") -> str:
    return f"""\
name: org-aws
account: "{DEFAULT_ACCOUNT}"
accounts: {{member: "{member}"}}
organization:
  units:
    workloads: {{accounts: [member]}}
    sandbox: {{parent: workloads{sandbox_accounts}}}{units}
  scps:
    NoKeyDeletion:
      targets: [ou:workloads]
      document: {{Version: "2012-10-17", Statement: [{{Effect: Deny, Action: "kms:ScheduleKeyDeletion", Resource: "*"}}]}}
states:
  - name: only
"""


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAORGTESTDUMMY0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-never-printed")


@pytest.fixture
def world(credentials: None) -> Iterator[World]:
    """The administrators' organization: SCPs enabled, unit workloads with the member account in
    it, and their SCP Foreign attached to workloads."""
    with mock_aws():
        client = boto3.client("organizations", region_name=DEFAULT_REGION)
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        client.enable_policy_type(RootId=root, PolicyType=SCP)
        workloads = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        member = client.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
        client.move_account(AccountId=member, SourceParentId=root, DestinationParentId=workloads)
        foreign = client.create_policy(Name="Foreign", Type=SCP, Description="the administrators'",
                                       Content=FOREIGN)["Policy"]["PolicySummary"]["Id"]
        client.attach_policy(PolicyId=foreign, TargetId=workloads)
        yield World(client, root, workloads, member, foreign)


@pytest.fixture
def scenario(world: World, tmp_path: Path) -> str:
    path = tmp_path / "org-aws.yaml"
    path.write_text(_scenario(world.member))
    return str(path)


def _aws(command: str, scenario: str, *extra: str) -> int:
    return main([command, scenario, "--target", "aws", "--no-color", *extra])


def _custom(world: World) -> dict[str, str]:
    """The organization's own SCPs, name -> id."""
    return {p["Name"]: p["Id"] for p in world.client.list_policies(Filter=SCP)["Policies"] if not p["AwsManaged"]}


def _units(world: World) -> list[str]:
    return sorted(u["Name"] for u in world.client.list_organizational_units_for_parent(ParentId=world.workloads)["OrganizationalUnits"])


def _foreign_untouched(world: World) -> None:
    assert world.client.describe_policy(PolicyId=world.foreign)["Policy"]["Content"] == FOREIGN
    assert [t["TargetId"] for t in world.client.list_targets_for_policy(PolicyId=world.foreign)["Targets"]] == [world.workloads]


def _mutating(opened: list[AwsBackend]) -> list[str]:
    return [operation for backend in opened for _, operation, _ in backend.log.mutating()]


def test_without_the_flag_a_difference_is_drift(world: World, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("drift", scenario, "--output", "json") == 2
    report = json.loads(capsys.readouterr().out)
    paths = {d["PropertyPath"] for d in report["differences"]}
    assert {"scps.NoKeyDeletion", "units.sandbox"} <= {p.removeprefix("organization.organization.") for p in paths}, paths
    assert _aws("plan", scenario) == 2
    out = capsys.readouterr().out
    assert "! organization.organization" in out and "only with --manage-organization" in out


def test_without_the_flag_apply_refuses_and_changes_nothing(world: World, scenario: str, opened: list[AwsBackend],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("apply", scenario) == 3
    captured = capsys.readouterr()
    assert ("refusing to apply org-aws: 1 change orchestrate may not make; nothing was changed\n"
            "  organization.organization (state only): the organization on AWS differs from the scenario's"
            " (create unit sandbox under ou:workloads; create SCP NoKeyDeletion; attach SCP NoKeyDeletion to"
            " ou:workloads): on real AWS orchestrate changes an organization only with --manage-organization") in captured.err
    assert "--adopt" not in captured.out + captured.err
    assert _mutating(opened) == [] and _custom(world) == {"Foreign": world.foreign} and _units(world) == []


def test_with_the_flag_apply_lists_the_reach_then_makes_only_its_own(world: World, scenario: str, opened: list[AwsBackend],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("apply", scenario, "--manage-organization") == 0
    err = capsys.readouterr().err
    assert (f"Organization of AWS account {DEFAULT_ACCOUNT}: 3 changes to make (--manage-organization):\n"
            "  [only] create unit sandbox under ou:workloads: reaches no account\n"
            "  [only] create SCP NoKeyDeletion: reaches no account\n"
            f"  [only] attach SCP NoKeyDeletion to ou:workloads: reaches 1 account: {world.member} (member)\n") in err
    assert _mutating(opened) == ["CreateOrganizationalUnit", "CreatePolicy", "AttachPolicy"]
    ours = _custom(world)["NoKeyDeletion"]
    assert [t["TargetId"] for t in world.client.list_targets_for_policy(PolicyId=ours)["Targets"]] == [world.workloads]
    assert _units(world) == ["sandbox"]
    _foreign_untouched(world)
    opened.clear()
    assert _aws("apply", scenario, "--manage-organization") == 0  # converged: nothing more to make
    assert _mutating(opened) == []
    assert _aws("plan", scenario) == 0 and _aws("drift", scenario) == 0


def test_with_the_flag_destroy_removes_only_its_own(world: World, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("apply", scenario, "--manage-organization") == 0
    capsys.readouterr()
    assert _aws("destroy", scenario) == 3  # without the flag, destroy leaves the organization as it is
    assert "only with --manage-organization" in capsys.readouterr().err
    assert set(_custom(world)) == {"Foreign", "NoKeyDeletion"}
    assert _aws("destroy", scenario, "--manage-organization") == 0
    err = capsys.readouterr().err
    assert "[destroy] delete unit sandbox: reaches no account" in err
    assert f"[destroy] delete SCP NoKeyDeletion: reaches 1 account: {world.member} (member)" in err
    assert _custom(world) == {"Foreign": world.foreign} and _units(world) == []
    _foreign_untouched(world)
    assert world.client.describe_organization()["Organization"]["Id"]  # never deleted


def test_an_untagged_policy_of_the_same_name_is_a_conflict_named_by_its_id(
        world: World, scenario: str, opened: list[AwsBackend], capsys: pytest.CaptureFixture[str]) -> None:
    theirs = world.client.create_policy(Name="NoKeyDeletion", Type=SCP, Description="the administrators'",
                                        Content=FOREIGN)["Policy"]["PolicySummary"]["Id"]
    assert _aws("apply", scenario, "--manage-organization") == 3
    out = capsys.readouterr().err
    assert f"SCP NoKeyDeletion: a policy named NoKeyDeletion exists ({theirs}) and is not owned by this scenario" in out
    assert _mutating(opened) == []
    assert world.client.describe_policy(PolicyId=theirs)["Policy"]["Content"] == FOREIGN
    assert world.client.list_targets_for_policy(PolicyId=theirs)["Targets"] == []


def test_the_flag_never_moves_an_account(world: World, tmp_path: Path, opened: list[AwsBackend],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "moves.yaml"
    path.write_text(_scenario(world.member, sandbox_accounts=", accounts: [member]").replace(
        "workloads: {accounts: [member]}", "workloads: {}"))
    assert _aws("apply", str(path), "--manage-organization") == 3
    out = capsys.readouterr().err
    assert "move account member to ou:sandbox: orchestrate never invites or moves an account on real AWS" in out
    assert _mutating(opened) == []


def test_no_organization_is_never_created(credentials: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        path = tmp_path / "org-aws.yaml"
        path.write_text(_scenario("210987654321"))
        assert _aws("apply", str(path), "--manage-organization") == 3
        assert "on real AWS orchestrate never creates an organization" in capsys.readouterr().err
        with pytest.raises(Exception, match="AWSOrganizationsNotInUseException"):
            boto3.client("organizations", region_name=DEFAULT_REGION).describe_organization()


@pytest.mark.parametrize(("command", "code"), [("apply", 2), ("plan", 1), ("destroy", 2), ("run", 2)])
def test_the_flag_off_real_aws_is_a_usage_error(command: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    seed = str(Path(__file__).parent / "data" / "org-scp.yaml")
    assert main([command, seed, "--manage-organization"]) == code
    assert "--manage-organization applies to --target aws" in capsys.readouterr().err


def test_plan_with_the_flag_shows_the_reach(world: World, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("plan", scenario, "--manage-organization") == 2
    out = capsys.readouterr().out
    assert "~ organization.organization" in out and "! organization.organization" not in out
    assert f"  [only] attach SCP NoKeyDeletion to ou:workloads: reaches 1 account: {world.member} (member)" in out
    assert _aws("plan", scenario, "--manage-organization", "--output", "json") == 2
    reach = json.loads(capsys.readouterr().out)["organization_reach"]
    assert [(r["change"], [a["id"] for a in r["accounts"]]) for r in reach] == [
        ("create unit sandbox under ou:workloads", []), ("create SCP NoKeyDeletion", []),
        ("attach SCP NoKeyDeletion to ou:workloads", [world.member])]
    assert _custom(world) == {"Foreign": world.foreign}  # plan changes nothing


def test_run_with_the_flag_lists_then_undoes_its_changes(world: World, scenario: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert _aws("run", scenario, "--manage-organization") == 0
    err = capsys.readouterr().err
    assert "[only] create SCP NoKeyDeletion" in err and "[destroy] delete SCP NoKeyDeletion" in err
    assert _custom(world) == {"Foreign": world.foreign} and _units(world) == []
    _foreign_untouched(world)


def test_root_reaches_every_account_of_the_organization(world: World, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """An account the scenario does not name is reached too, by its id alone."""
    other = world.client.create_account(Email="other@example.com", AccountName="other")["CreateAccountStatus"]["AccountId"]
    path = tmp_path / "root.yaml"
    path.write_text(_scenario(world.member).replace("targets: [ou:workloads]", "targets: [root]"))
    assert _aws("plan", str(path), "--manage-organization") == 2
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "attach SCP NoKeyDeletion to root" in line]
    assert f"{world.member} (member)" in line and other in line and f"{DEFAULT_ACCOUNT} (home)" in line


def test_destroy_without_the_flag_leaves_an_organization_it_never_changed(
        world: World, scenario: str, opened: list[AwsBackend]) -> None:
    assert _aws("destroy", scenario) == 0
    assert _mutating(opened) == []
    assert _custom(world) == {"Foreign": world.foreign} and _units(world) == []
    _foreign_untouched(world)
