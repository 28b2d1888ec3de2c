"""A guarantee's question from a scenario's state (orchestrator/whoelse/from_state.py): the resolved
resource policy, the key's grants, the declared principals with their identity side, the
organization and endpoints, and the scope of `only` / `no_access_from`; then decided."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.analysis.offline import offline_context
from orchestrator.loader import load_scenario
from orchestrator.model.scenario import Guarantee
from orchestrator.whoelse import PROVED, VIOLATED, Scope, decide
from orchestrator.whoelse.from_state import QuestionError, outside_question, question_for

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
HOME = "123456789012"

SMALL = """
name: small-guarded
region: us-east-1
accounts:
  partner: "210987654321"
users:
  reader:
    tags: {team: data}
    inline_policies:
      read:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Action: "kms:Decrypt", Resource: key:data}
    managed_policies: [ReadOnlyAccess]
  other: {}
roles:
  deploy:
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Principal: {AWS: account:partner}, Action: "sts:AssumeRole"}
keys:
  data:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Reader, Effect: Allow, Principal: {AWS: user:reader}, Action: "kms:Decrypt", Resource: "*"}
        - {Sid: Admin, Effect: Allow, Principal: {AWS: orchestrate}, Action: "kms:*", Resource: "*"}
    grants:
      partner:
        grantee: role:deploy
        operations: [Decrypt]
buckets:
  files:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Principal: "*", Action: "s3:GetObject", Resource: "object:files/*"}
states:
  - name: only
"""


def loaded_small(tmp_path: Path) -> Any:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return load_scenario(path)


def question(loaded: Any, **guarantee: Any) -> Any:
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    return question_for(ctx, loaded.desired[0], Guarantee.model_validate(guarantee))


def test_the_key_policy_is_resolved_and_the_grants_carried(tmp_path: Path) -> None:
    q = question(loaded_small(tmp_path), resource="key:data", actions=["kms:Decrypt"], only=["user:reader"])
    assert q.resource.startswith(f"arn:aws:kms:us-east-1:{HOME}:key/") and q.resource_account == HOME
    policy = json.loads(str(q.resource_policy.document))
    assert q.resource_policy.kind == "key"
    reader = next(s for s in policy["Statement"] if s.get("Sid") == "Reader")
    assert reader["Principal"]["AWS"] in (f"arn:aws:iam::{HOME}:user/reader", [f"arn:aws:iam::{HOME}:user/reader"])
    assert [g.grantee_principal for g in q.grants] == [f"arn:aws:iam::{HOME}:role/deploy"]
    assert q.scope == Scope.everyone([f"arn:aws:iam::{HOME}:user/reader"])
    assert q.closed_accounts == frozenset()  # the sound default: undeclared principals exist


def test_declared_principals_carry_inline_managed_and_tags(tmp_path: Path) -> None:
    q = question(loaded_small(tmp_path), resource="key:data", actions=["kms:Decrypt"], only=[])
    by_arn = {p.arn: p for p in q.principals}
    reader = by_arn[f"arn:aws:iam::{HOME}:user/reader"]
    assert [s.name for s in reader.identity] == ["reader/inline/read", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert dict(reader.tags) == {"team": "data"}
    assert f"arn:aws:iam::{HOME}:role/deploy" in by_arn


def test_a_grant_to_a_role_violates_only_the_reader_and_orchestrate(tmp_path: Path) -> None:
    verdict = decide(question(loaded_small(tmp_path), resource="key:data", actions=["kms:Decrypt"],
                              only=["user:reader", "orchestrate"]))
    assert verdict.status == VIOLATED
    assert verdict.witness is not None and verdict.witness.caller_arn.startswith(f"arn:aws:sts::{HOME}:assumed-role/deploy/")


def test_admitting_the_role_too_proves_it(tmp_path: Path) -> None:
    verdict = decide(question(loaded_small(tmp_path), resource="key:data", actions=["kms:Decrypt"],
                              only=["user:reader", "role:deploy", "orchestrate"]))
    assert verdict.status == PROVED, verdict.reason


def test_a_trust_policy_naming_another_account_is_outside_access(tmp_path: Path) -> None:
    q = question(loaded_small(tmp_path), resource="role:deploy", actions=["sts:AssumeRole"], no_access_from="outside-account")
    assert q.resource_policy.kind == "trust" and q.scope == Scope.outside_account(HOME)
    verdict = decide(q)
    assert verdict.status == VIOLATED and verdict.witness is not None
    assert verdict.witness.caller_account == "210987654321"


def test_account_entries_exclude_every_principal_of_that_account(tmp_path: Path) -> None:
    q = question(loaded_small(tmp_path), resource="role:deploy", actions=["sts:AssumeRole"], only=["account:partner"])
    assert q.scope == Scope.everyone(["210987654321"])
    assert decide(q).status == PROVED


def test_a_public_object_policy(tmp_path: Path) -> None:
    q = question(loaded_small(tmp_path), resource="object:files/report.csv", actions=["s3:GetObject"], no_access_from="public")
    assert q.resource.endswith(":::small-guarded-files/report.csv") or q.resource.startswith("arn:aws:s3:::")
    verdict = decide(q)
    assert verdict.status == VIOLATED and verdict.witness is not None
    assert verdict.witness.caller_arn == "anonymous" or verdict.witness.caller_account != HOME  # anyone: a stranger too


def test_outside_question_for_findings(tmp_path: Path) -> None:
    loaded = loaded_small(tmp_path)
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    q = outside_question(ctx, loaded.desired[0], "key:data", ["kms:Decrypt"], Scope.outside_account(HOME))
    assert q.actions == ("kms:Decrypt",) and q.resource_account == HOME
    assert decide(q).status == PROVED  # the grant's grantee and the reader live in the home account


def test_an_undeclared_resource_is_an_input_error(tmp_path: Path) -> None:
    loaded = loaded_small(tmp_path)
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    with pytest.raises(QuestionError):
        outside_question(ctx, loaded.desired[0], "table:nope", ["dynamodb:GetItem"], Scope.the_public())


def test_organization_memberships_and_the_resource_org() -> None:
    loaded = load_scenario(SCENARIOS / "rcp-bucket-org-only.yaml")
    bucket = next(iter(loaded.desired[0].buckets))
    q = question(loaded, resource=f"bucket:{bucket}", actions=["s3:ListBucket"], no_access_from="outside-organization")
    assert q.resource_org is not None and q.resource_org.org_id.startswith("o-")
    assert q.organizations and q.scope == Scope.outside_organization(q.resource_org.org_id)


def test_vpc_endpoints_are_declared() -> None:
    loaded = load_scenario(SCENARIOS / "vpc-endpoint-only-bucket.yaml")
    bucket = next(iter(loaded.desired[0].buckets))
    q = question(loaded, resource=f"bucket:{bucket}", actions=["s3:ListBucket"], no_access_from="public")
    assert [e.id.startswith("vpce-") for e in q.endpoints] == [True] * len(loaded.desired[0].vpc_endpoints)
