"""The organization reconciler (orchestrator/resources/organization.py), on the embedded backend with the gate.

Organizations User Guide, "SCP evaluation": an SCP on a unit caps the principals of the accounts
below it. The scenario (data/org-scp.yaml) declares a unit tree, two member accounts and an SCP on
prod denying kms:ScheduleKeyDeletion; apply makes the organization through moto's Organizations
API, and the gate enforces what moto then holds.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from res_support import mutating_ops

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.model.organization import OrganizationIds, reresolve_org_ids
from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all, plan_state
from orchestrator.resources.context import RunContext
from orchestrator.resources.organization import OrganizationReconciler, OrganizationRefused

SCENARIO = Path(__file__).parent / "data" / "org-scp.yaml"
LOADED = load_scenario(SCENARIO)
STATE = LOADED.desired[0]
SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"


@pytest.fixture
def gated() -> Iterator[EmbeddedBackend]:
    created = EmbeddedBackend(LOADED.scenario.region)
    try:
        yield created
    finally:
        created.close()


def _context(backend: Any) -> RunContext:
    ctx = RunContext(backend, LOADED.scenario.name)
    ctx.declare(LOADED.desired)
    return ctx


def _organizations(backend: EmbeddedBackend) -> Any:
    return backend.client("organizations")


def _ours(client: Any, policy_type: str) -> list[str]:
    return [p["Name"] for p in client.list_policies(Filter=policy_type)["Policies"] if not p["AwsManaged"]]


def test_apply_proves_the_scp_denies_in_the_unit_and_allows_elsewhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(SCENARIO), "--output", "json"]) == 0
    text = capsys.readouterr().out
    assert '"scp"' in text, text[-2000:]


def test_apply_builds_the_tree_and_reapply_makes_no_mutating_call(gated: EmbeddedBackend) -> None:
    apply_state(_context(gated), STATE, "guarded")
    client = _organizations(gated)
    root = client.list_roots()["Roots"][0]
    assert {t["Type"] for t in root["PolicyTypes"] if t["Status"] == "ENABLED"} >= {SCP, RCP}
    (workloads,) = client.list_organizational_units_for_parent(ParentId=root["Id"])["OrganizationalUnits"]
    (prod,) = client.list_organizational_units_for_parent(ParentId=workloads["Id"])["OrganizationalUnits"]
    assert (workloads["Name"], prod["Name"]) == ("workloads", "prod")
    assert client.list_parents(ChildId=STATE.accounts["prod"])["Parents"][0]["Id"] == prod["Id"]
    assert client.list_parents(ChildId=STATE.accounts["dev"])["Parents"][0]["Id"] == root["Id"]
    (policy,) = [p for p in client.list_policies(Filter=SCP)["Policies"] if not p["AwsManaged"]]
    assert [t["TargetId"] for t in client.list_targets_for_policy(PolicyId=policy["Id"])["Targets"]] == [prod["Id"]]
    gated.log.clear()
    result = apply_state(_context(gated), STATE, "guarded")
    assert mutating_ops(gated) == []
    assert {c.action.value for c in result.changes} == {"no-op"}


def test_references_resolve_to_the_observed_ids(gated: EmbeddedBackend) -> None:
    ctx = _context(gated)
    assert ctx.organization_ids == OrganizationIds.embedded(LOADED.scenario.name, STATE.organization.units)
    apply_state(ctx, STATE, "guarded")
    client = _organizations(gated)
    assert ctx.organization_ids.organization == client.describe_organization()["Organization"]["Id"]
    assert ctx.resolve_policy({"Statement": [{"Condition": {"StringEquals": {"aws:PrincipalOrgID": "organization"}}}]}) == {
        "Statement": [{"Condition": {"StringEquals": {"aws:PrincipalOrgID": ctx.organization_ids.organization}}}]}


def test_no_drift_after_apply_and_a_detached_policy_is_drift(gated: EmbeddedBackend) -> None:
    apply_state(_context(gated), STATE, "guarded")
    pairs = [p for p in observe_all(_context(gated), STATE, observed_only=True) if p.reconciler.kind == "organization"]
    assert [d for pair in pairs for d in differences(pair)] == []
    client = _organizations(gated)
    (policy,) = [p for p in client.list_policies(Filter=SCP)["Policies"] if not p["AwsManaged"]]
    target = client.list_targets_for_policy(PolicyId=policy["Id"])["Targets"][0]["TargetId"]
    client.detach_policy(PolicyId=policy["Id"], TargetId=target)
    pairs = [p for p in observe_all(_context(gated), STATE, observed_only=True) if p.reconciler.kind == "organization"]
    assert [d for pair in pairs for d in differences(pair)] != []
    plan = plan_state(_context(gated), STATE, "guarded")
    assert {c.address: c.action.value for c in plan.changes}["organization.organization"] == "update"


def test_destroy_leaves_no_organization_behind(gated: EmbeddedBackend) -> None:
    apply_state(_context(gated), STATE, "guarded")
    destroy(_context(gated), STATE)
    client = _organizations(gated)
    with pytest.raises(Exception) as raised:
        client.describe_organization()
    assert raised.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"  # type: ignore[attr-defined]


def test_destroy_in_an_organization_it_did_not_create_removes_only_its_parts(gated: EmbeddedBackend) -> None:
    client = _organizations(gated)
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    other = client.create_organizational_unit(ParentId=root, Name="someone-elses")["OrganizationalUnit"]["Id"]
    apply_state(_context(gated), STATE, "guarded")
    destroy(_context(gated), STATE)
    assert _ours(client, SCP) == [] and _ours(client, RCP) == []
    units = client.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    assert [u["Id"] for u in units] == [other]
    assert client.describe_organization()["Organization"]["Id"]


def test_every_organizations_call_is_a_declared_permission(gated: EmbeddedBackend) -> None:
    apply_state(_context(gated), STATE, "guarded")
    destroy(_context(gated), STATE)
    made = {f"{service}:{operation}" for service, operation, _ in gated.log.calls if service == "organizations"}
    assert {"organizations:CreateOrganization", "organizations:MoveAccount", "organizations:DeleteOrganization"} <= made
    assert made - set(OrganizationReconciler.permissions) == set()


def test_real_aws_never_creates_an_organization(gated: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """On real AWS (test_res_organization_aws.py has the rest) a missing organization is a change
    orchestrate may not make: plan shows it as one, and create refuses it even with the flag."""
    monkeypatch.setattr(gated, "kind", "aws")
    (change,) = plan_state(_context(gated), STATE, "guarded").changes[:1]
    assert change.action.value == "conflict" and "never creates an organization" in change.reason
    ctx = _context(gated)
    ctx.manage_organization = True
    with pytest.raises(OrganizationRefused, match="never creates an organization"):
        apply_state(ctx, STATE, "guarded")
    assert mutating_ops(gated) == []


def test_a_state_that_detaches_the_scp_makes_only_that_call(gated: EmbeddedBackend) -> None:
    apply_state(_context(gated), STATE, "guarded")
    gated.log.clear()
    apply_state(_context(gated), LOADED.desired[1], "unguarded")
    assert mutating_ops(gated) == ["DetachPolicy"]
    client = _organizations(gated)
    (policy,) = [p for p in client.list_policies(Filter=SCP)["Policies"] if not p["AwsManaged"]]
    assert client.list_targets_for_policy(PolicyId=policy["Id"])["Targets"] == []


def _path_scoped_scenario(tmp_path: Path) -> Any:
    """org-scp with its SCP on the root, denying outside the prod unit (`ou:prod/*`): a document that
    names the unit's path, so it needs the organization's and the unit's ids as it is created."""
    text = SCENARIO.read_text().replace("targets: [ou:prod]", "targets: [root]").replace(
        "            Resource: \"*\"\nusers:",
        "            Resource: \"*\"\n            Condition: {StringNotLike: {aws:PrincipalOrgPaths: \"ou:prod/*\"}}\nusers:")
    assert "ou:prod/*" in text
    path = tmp_path / "org-paths.yaml"
    path.write_text(text)
    return load_scenario(path)


def test_an_scp_created_with_the_organization_names_the_ids_it_was_given(gated: EmbeddedBackend, tmp_path: Path) -> None:
    """The SCP's `ou:prod/*` resolves before the organization exists (to ids derived from the
    scenario's name); moto draws others, and the SCP created must name those, not the derived ones."""
    loaded = _path_scoped_scenario(tmp_path)
    ctx = RunContext(gated, loaded.scenario.name)
    ctx.declare(loaded.desired)
    derived = ctx.organization_ids
    apply_state(ctx, loaded.desired[0], "guarded")
    client = _organizations(gated)
    org_id = client.describe_organization()["Organization"]["Id"]
    root = client.list_roots()["Roots"][0]["Id"]
    (workloads,) = client.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    (prod,) = client.list_organizational_units_for_parent(ParentId=workloads["Id"])["OrganizationalUnits"]
    assert derived is not None and derived.organization != org_id
    (policy,) = [p for p in client.list_policies(Filter=SCP)["Policies"] if not p["AwsManaged"]]
    content = json.loads(client.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"])
    condition = content["Statement"][0]["Condition"]["StringNotLike"]["aws:PrincipalOrgPaths"]
    assert condition == f"{org_id}/{root}/{workloads['Id']}/{prod['Id']}/*"
    fresh = RunContext(gated, loaded.scenario.name)
    fresh.declare(loaded.desired)
    pairs = [p for p in observe_all(fresh, loaded.desired[0], observed_only=True) if p.reconciler.kind == "organization"]
    assert [d for pair in pairs for d in differences(pair)] == []


def test_reresolve_renames_only_the_organizations_ids() -> None:
    old = OrganizationIds("o-aaaaaaaaaa", "r-aaaa", {"prod": "ou-aaaa-11111111"})
    new = OrganizationIds("o-bbbbbbbbbb", "r-bbbb", {"prod": "ou-bbbb-22222222"})
    document = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::o-aaaaaaaaaa/*", "Condition": {
        "StringNotEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa", "aws:PrincipalAccount": "o-aaaaaaaaaa"},
        "ForAnyValue:StringLike": {"aws:ResourceOrgPaths": ["o-aaaaaaaaaa/r-aaaa/ou-aaaa-11111111/*", "o-x/*"]}}}]}
    renamed = reresolve_org_ids(document, old, new)
    condition = renamed["Statement"][0]["Condition"]
    assert condition["StringNotEquals"] == {"aws:PrincipalOrgID": "o-bbbbbbbbbb", "aws:PrincipalAccount": "o-aaaaaaaaaa"}
    assert condition["ForAnyValue:StringLike"]["aws:ResourceOrgPaths"] == ["o-bbbbbbbbbb/r-bbbb/ou-bbbb-22222222/*", "o-x/*"]
    assert renamed["Statement"][0]["Resource"] == "arn:aws:s3:::o-aaaaaaaaaa/*"
    assert document["Statement"][0]["Condition"]["StringNotEquals"]["aws:PrincipalOrgID"] == "o-aaaaaaaaaa"
    assert reresolve_org_ids(document, old, old) == document
