"""The organization's ids in a plan, and an SCP of the scenario that denies orchestrate's own call.

- A plan made before the organization exists cannot know its ids: AWS (moto too) draws them when
  CreateOrganization runs. Policies that name `organization` or `ou:UNIT` show them as Terraform
  shows such values, "(known after apply)", not as the ids the scenario's name would give.
- Organizations User Guide, "SCP evaluation": an SCP binds every principal of a member account,
  orchestrate's own credentials there too; apply stops with AWS's error (IAM User Guide,
  "Troubleshoot access denied error messages": "... with an explicit deny in a service control policy").
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.model.organization import OrganizationIds

SCENARIO = """\
name: org-plan
accounts: {prod: "111111111111", partner: "333333333333"}
organization:
  outside: [partner]
  units:
    prod: {accounts: [prod]}
users:
  reader: {account: prod}
keys:
  data:
    account: prod
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Admin, Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
        - Sid: OrgReaders
          Effect: Allow
          Principal: "*"
          Action: kms:DescribeKey
          Resource: "*"
          Condition:
            StringEquals: {aws:PrincipalOrgID: organization}
            ForAnyValue:StringLike: {aws:PrincipalOrgPaths: ["ou:prod/*"]}
states:
  - name: only
    expectations:
      - {as: reader, action: kms:DescribeKey, resource: key:data, expect: denied}
"""

NO_INLINE_POLICIES = """\
  scps:
    NoInlinePolicies:
      targets: [account:prod]
      document:
        Version: "2012-10-17"
        Statement: [{Effect: Deny, Action: iam:PutUserPolicy, Resource: "*"}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org-plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_before_the_organization_exists_shows_its_ids_as_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, SCENARIO)
    assert main(["plan", str(path)]) == 2
    out = capsys.readouterr().out
    named = OrganizationIds.embedded("org-plan", ["prod"])
    assert '"o-(known after apply)"' in out
    assert '"o-(known after apply)/r-(known after apply)/ou-(known after apply: prod)/*"' in out
    assert named.organization not in out and named.units["prod"] not in out


def test_apply_resolves_the_ids_it_drew_and_proves_with_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The user is in prod, so the key policy's org condition lets it describe the key: the
    expectation `denied` fails only if the ids apply wrote are the organization's real ones."""
    path = _write(tmp_path, SCENARIO)
    assert main(["apply", str(path)]) == 1
    out = capsys.readouterr().out
    assert "expected denied, actual allowed" in out and "known after apply" not in out
    loaded = load_scenario(path)
    assert loaded.desired[0].organization is not None


def test_an_scp_of_the_scenario_denying_orchestrates_call_stops_apply_with_awss_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, SCENARIO.replace("    prod: {accounts: [prod]}\n", "    prod: {accounts: [prod]}\n" + NO_INLINE_POLICIES)
                  .replace("reader: {account: prod}", "reader: {account: prod, inline_policies: {r: {Version: '2012-10-17',"
                           " Statement: [{Effect: Allow, Action: 'kms:DescribeKey', Resource: '*'}]}}}"))
    assert main(["apply", str(path)]) == 3  # INFRA: a reconcile refused by AWS (orchestrator/exit_codes.py)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "AWS error AccessDenied from PutUserPolicy" in text
    assert ("is not authorized to perform: iam:PutUserPolicy on resource: arn:aws:iam::111111111111:user/reader"
            " with an explicit deny in a service control policy") in text
