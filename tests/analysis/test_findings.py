"""External-access findings (analysis/findings.py): per state and resource, each class of principal
outside the account, the organization or the public that can reach it, with a witness the concrete
engine allowed and the statement that opens it at its line; none for a closed resource; and the new
access a later state grants (IAM User Guide, "Review findings"; Access Analyzer CheckNoNewAccess)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.analysis.finding_sites import FindingSites
from orchestrator.analysis.finding_targets import targets_of
from orchestrator.analysis.findings import (OUTSIDE_ACCOUNT, PUBLIC, Target, actions_of, findings_report,
                                            state_findings)
from orchestrator.analysis.offline import offline_context
from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.loader import load_scenario
from orchestrator.whoelse import VIOLATED, Question

A = "111111111111"
OBJECT = "arn:aws:s3:::site/index.html"


def bucket(*statements: dict[str, Any], state: int = 0) -> Target:
    policy = PolicySource("resource", "bucket policy of bucket:site",
                          json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    question = Question("arn:aws:s3:::site", A, (), resource_policy=policy)
    return Target(state, "bucket:site", "bucket", question, actions=("s3:GetObject", "s3:PutObject"),
                  resource_of={"s3:GetObject": OBJECT, "s3:PutObject": OBJECT})


PUBLIC_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::site/*"}
OWN_ACCOUNT = {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "s3:*",
               "Resource": "arn:aws:s3:::site/*"}


def test_a_public_bucket_policy_is_a_public_finding_with_a_witness_the_engine_allowed() -> None:
    found = state_findings(0, "open", [bucket(PUBLIC_READ)]).findings
    public = [f for f in found if f.principal_class == PUBLIC]
    assert [(f.action, f.status) for f in public] == [("s3:GetObject", VIOLATED)]
    witness = public[0].witness
    assert witness is not None and witness.decision is not None and witness.decision.decision == "allowed"
    assert any(ref.sid == "PublicRead" for ref in witness.statements)
    assert {f.principal_class for f in found} == {OUTSIDE_ACCOUNT, PUBLIC}


def test_a_bucket_open_to_its_own_account_only_has_no_finding() -> None:
    report = findings_report("s", "s.yaml", [state_findings(0, "closed", [bucket(OWN_ACCOUNT)])])
    assert report.states[0].findings == () and not report.open


def test_new_access_is_what_the_later_state_opens() -> None:
    closed = state_findings(0, "closed", [bucket(OWN_ACCOUNT)])
    opened = state_findings(1, "open", [bucket(OWN_ACCOUNT, PUBLIC_READ, state=1)])
    report = findings_report("s", "s.yaml", [closed, opened])
    assert {(f.state, f.principal_class, f.action) for f in report.new} == {(1, OUTSIDE_ACCOUNT, "s3:GetObject"),
                                                                          (1, PUBLIC, "s3:GetObject")}
    closed_after = state_findings(1, "closed", [bucket(OWN_ACCOUNT, state=1)])
    assert findings_report("s", "s.yaml", [state_findings(0, "open", [bucket(PUBLIC_READ)]), closed_after]).new == ()


def test_each_resource_kind_asks_the_language_s_actions() -> None:
    assert "kms:Decrypt" in actions_of("key") and "kms:RetireGrant" not in actions_of("key")
    assert set(actions_of("bucket")) >= {"s3:GetObject", "s3:ListBucket"}
    assert actions_of("role") == ("sts:AssumeRole",)


SCENARIO = """\
name: findings-small
region: us-east-1
users:
  reader: {}
buckets:
  site:
    objects:
      - {key: index.html, body: hello}
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: Own
          Effect: Allow
          Principal: {AWS: user:reader}
          Action: s3:GetObject
          Resource: object:site/*
states:
  - name: closed
  - name: opened
    patch:
      buckets:
        site:
          policy:
            Statement:
              PublicRead:
                Effect: Allow
                Principal: "*"
                Action: s3:GetObject
                Resource: object:site/*
"""


def test_a_scenario_s_public_statement_is_located_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    loaded = load_scenario(path)
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    states = [state_findings(i, s.name, targets_of(ctx, i, loaded.desired[i])) for i, s in enumerate(loaded.scenario.states)]
    assert states[0].findings == ()
    public = [f for f in states[1].findings if f.principal_class == PUBLIC]
    assert [f.action for f in public] == ["s3:GetObject"]
    where = FindingSites(loaded.data, loaded.positions).locate(public[0])
    line = SCENARIO.splitlines().index("              PublicRead:") + 1
    assert (where.line, where.statement) == (line, "PublicRead")
    assert findings_report("s", str(path), states).new


TRUST = """\
name: findings-trust
region: us-east-1
accounts:
  partner: "210987654321"
roles:
  deploy:
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Principal: {AWS: account:partner}, Action: "sts:AssumeRole"}
states:
  - name: only
"""


def test_a_trust_policy_naming_another_account_without_external_id_is_a_finding(tmp_path: Path) -> None:
    """IAM User Guide, "Access to AWS accounts owned by third parties" (sts:ExternalId): a role any
    principal of the partner account may assume, found at the statement that trusts it."""
    path = tmp_path / "trust.yaml"
    path.write_text(TRUST)
    loaded = load_scenario(path)
    ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
    found = state_findings(0, "only", targets_of(ctx, 0, loaded.desired[0])).findings
    assert [(f.resource, f.principal_class, f.action) for f in found] == [("role:deploy", OUTSIDE_ACCOUNT, "sts:AssumeRole")]
    assert found[0].witness is not None and found[0].witness.caller_account == "210987654321"
    where = FindingSites(loaded.data, loaded.positions).locate(found[0])
    line = next(n for n, text in enumerate(TRUST.splitlines(), 1) if "account:partner" in text)
    assert (where.line, where.statement) == (line, "#1")
