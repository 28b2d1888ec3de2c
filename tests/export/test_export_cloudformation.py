"""CloudFormation export: cfn-lint for every shipped scenario and state, and the round trip
through moto's CloudFormation (create_stack on the embedded backend) to `drift` with no
difference but those the template's notes name. moto's CloudFormation is the one the embedded
backend extends (orchestrator/backends/moto_cloudformation.py): no property is excused as moto's."""

from __future__ import annotations

import json
import warnings

import pytest
import yaml
from export_support import cases, exported, loaded
from export_world import deploy_parameters

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.export.references import logical_id
from orchestrator.model.organization import OrganizationIds
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources.context import RunContext

CASES = cases()
IDS = [f"{path.stem}:{state}" for path, _, state in CASES]


def test_every_template_passes_cfn_lint() -> None:
    """One test for the batch, linted by one cfn-lint runner: cfnlint.api.lint would build a runner,
    and load every rule and the data they read (the IAM policy specs among them), per template.
    What lint does with a runner is done here: decode the text (its errors are the matches), then
    validate the template (cfn-lint's own CLI runs many templates with one runner)."""
    from cfnlint.api import ManualArgs
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner

    runner = Runner(ConfigMixIn(**ManualArgs(regions=["us-east-1"])))
    problems = []
    for (path, index, state), label in zip(CASES, IDS):
        template, errors = decode_str(exported(path, index, "cloudformation").text)
        matches = errors or ([] if template is None else list(runner.validate_template(template)))
        problems += [f"{label}: {match}" for match in matches]
    assert problems == []


def test_no_hard_coded_arn_of_ours() -> None:
    """References are the template's own: no ARN in the home account's id, no orchestrate identity."""
    for path, index, _ in CASES:
        text = exported(path, index, "cloudformation").text
        assert "123456789012" not in text and "user/moto" not in text


@pytest.mark.parametrize(("path", "index", "state"), CASES, ids=IDS)
def test_moto_round_trip_has_only_noted_drift(path, index, state) -> None:
    scenario = loaded(path)
    export = exported(path, index, "cloudformation")
    backend = EmbeddedBackend(scenario.scenario.region)
    try:
        template = yaml.safe_load(export.text)
        parameters = deploy_parameters(backend, scenario.desired[index], template)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a type moto's CloudFormation would skip fails the test
            backend.client("cloudformation").create_stack(StackName=f"export-{scenario.scenario.name}",
                                                          TemplateBody=json.dumps(template), Parameters=parameters)
        deployed = _deployed_endpoints(backend, f"export-{scenario.scenario.name}", template)
        ctx = RunContext(backend, scenario.scenario.name)
        ctx.declare(scenario.desired)
        found = [d for pair in observe_all(ctx, scenario.desired[index], observed_only=True) for d in differences(pair)]
    finally:
        backend.close()
    unexplained = [f"{d.resource} {d.path} {d.kind}: expected {d.expected!r}, actual {d.actual!r}" for d in found
                   if not any(note.covers(d.resource, d.path) for note in export.notes)
                   and not _endpoint_named(d, export.notes, deployed, scenario.scenario.name)
                   and not _vpc_named(d, export.notes, parameters, template, scenario.scenario.name)]
    assert unexplained == []


def _vpc_named(difference, notes, parameters: list[dict[str, str]], template: dict, scenario: str) -> bool:
    """A named VPC's literal id (the embedded one) that the template wrote as its VPC parameter, as its
    `vpc.NAME.id` note says: the deployed policy names the VPC the stack was given."""
    given = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    meaning = template["Metadata"]["Orchestrate"].get("Parameters", {})
    vpcs = {value.partition(":")[2]: given.get(name) for name, value in meaning.items() if value.startswith("vpc:")}
    ids = OrganizationIds.embedded(scenario)
    return any(note.address.startswith("vpc.") and note.path == "id"
               and difference.expected == ids.vpc(note.address.partition(".")[2])
               and difference.actual == vpcs.get(note.address.partition(".")[2]) for note in notes)


def _deployed_endpoints(backend: EmbeddedBackend, stack: str, template: dict) -> dict[str, str]:
    """The stack's endpoints: the scenario's name (the template's orchestrate:name tag) -> the id AWS drew."""
    resources = backend.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    found = {}
    for resource in resources:
        if resource["ResourceType"] == "AWS::EC2::VPCEndpoint":
            tags = template["Resources"][resource["LogicalResourceId"]]["Properties"]["Tags"]
            found[next(t["Value"] for t in tags if t["Key"] == "orchestrate:name")] = resource["PhysicalResourceId"]
    return found


def _endpoint_named(difference, notes, deployed: dict[str, str], scenario: str) -> bool:
    """A policy's literal endpoint id (the embedded one) that the template wrote as the endpoint it
    creates, as its `vpc_endpoint.NAME.id` note says: the deployed policy names that endpoint's id."""
    ids = OrganizationIds.embedded(scenario)
    return any(note.address.startswith("vpc_endpoint.") and note.path == "id"
               and difference.expected == ids.endpoint(note.address.partition(".")[2])
               and difference.actual == deployed.get(note.address.partition(".")[2]) for note in notes)


def test_notes_name_what_cloudformation_cannot_say() -> None:
    lines = {note.line().partition(":")[0] for path, index, _ in CASES for note in exported(path, index, "cloudformation").notes}
    assert {"dynamodb_table.orders.items", "kms_grant.data", "s3_objects.reports", "iam_user.analyst",
            "kms_key.data.pending_deletion"} <= lines


def test_expectations_are_a_comment_block_not_resources() -> None:
    path, index, _ = next(c for c in CASES if c[0].stem == "kms-dynamodb-access")
    text = exported(path, index, "cloudformation").text
    head = text.split("AWSTemplateFormatVersion")[0]
    assert "# Expectations of this state" in head and "dynamodb:GetItem on table:orders" in head
    assert "#   - no access from outside-account: kms:Decrypt on key:data" in head  # a guarantee: no resource either
    assert all(not line or line.startswith("#") for line in head.splitlines())


def test_key_policy_keeps_orchestrates_guard_for_a_parameter() -> None:
    path, index, _ = next(c for c in CASES if c[0].stem == "kms-dynamodb-access")
    template = yaml.safe_load(exported(path, index, "cloudformation").text)
    statements = template["Resources"]["KeyData"]["Properties"]["KeyPolicy"]["Statement"]
    guard = next(s for s in statements if s.get("Sid") == "OrchestrateKeyManagement")
    assert guard["Principal"] == {"AWS": {"Ref": "KeyManagerArn"}}
    assert "kms:*" not in guard["Action"] and "Condition" not in guard
    assert ":root" not in template["Parameters"]["KeyManagerArn"]["AllowedPattern"]


def test_key_policies_add_nothing_but_the_guard() -> None:
    """Nothing exported grants more than the scenario: each key policy is the scenario's
    statements, in order, plus (lockout: guard) the one management statement for the parameter."""
    for path, index, state in CASES:
        desired = loaded(path).desired[index]
        resources = yaml.safe_load(exported(path, index, "cloudformation").text)["Resources"]
        for name, key in desired.keys.items():
            if desired.account_of("keys", name) is not None:
                continue
            declared = key.policy.model_dump(mode="json", by_alias=True, exclude_none=True)["Statement"]
            written = resources[logical_id("keys", name)]["Properties"]["KeyPolicy"]["Statement"]
            extra = written[len(declared):]
            assert [s.get("Sid") for s in written[:len(declared)]] == [s.get("Sid") for s in declared], f"{path.stem}:{state}"
            assert [s["Sid"] for s in extra] == (["OrchestrateKeyManagement"] if key.lockout == "guard" else [])
