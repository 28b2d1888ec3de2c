"""``orchestrate simulate`` (orchestrator.authz.simulate.run).

Encodes the IAM API Reference "SimulateCustomPolicy" request parameters and
"EvaluationResult" / "Statement" / "Position" response shapes (SIM), the
JSON Lines contract (one output line per input document, SOURCE:LINE errors,
exit 2), and the documented deviation: KMS key-policy semantics when the
resource is a KMS key ARN (SIM-KMS).
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from orchestrator.authz.simulate import run, simulate_document

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
ALLOW_GET = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]})
DENY_DELETE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}]})
CONDITIONAL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
KEY_POLICY_ROOT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]})
DECRYPT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})


def simulate(text: str, source: str = "in.jsonl") -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(io.StringIO(text), out, err, source)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def one(document: dict[str, Any]) -> list[dict[str, Any]]:
    code, lines, err = simulate(json.dumps(document) + "\n")
    assert code == 0, err
    assert len(lines) == 1
    return lines[0]["EvaluationResults"]


def test_result_shape() -> None:
    # SIM: EvaluationResult members and Statement/Position shapes.
    [result] = one({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::bucket/k"]})
    assert result["EvalActionName"] == "s3:GetObject"
    assert result["EvalResourceName"] == "arn:aws:s3:::bucket/k"
    assert result["EvalDecision"] == "allowed"
    assert result["MissingContextValues"] == []
    [statement] = result["MatchedStatements"]
    assert statement["SourcePolicyId"] == "PolicyInputList.1"
    assert statement["SourcePolicyType"] == "IAM Policy"
    assert set(statement["StartPosition"]) == {"Line", "Column"} and statement["StartPosition"]["Line"] == 1
    assert statement["EndPosition"]["Column"] > statement["StartPosition"]["Column"]


def test_positions_point_at_the_statement() -> None:
    policy = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}\n  ]\n}'
    [result] = one({"PolicyInputList": [policy], "ActionNames": ["s3:GetObject"]})
    statement = result["MatchedStatements"][0]
    assert statement["StartPosition"] == {"Line": 4, "Column": 5}
    assert statement["EndPosition"]["Line"] == 4


@pytest.mark.parametrize("document,decisions", [
    pytest.param({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject", "s3:PutObject"],
                  "ResourceArns": ["arn:aws:s3:::bucket/a", "arn:aws:s3:::other/b"]},
                 [("s3:GetObject", "arn:aws:s3:::bucket/a", "allowed"), ("s3:GetObject", "arn:aws:s3:::other/b", "implicitDeny"),
                  ("s3:PutObject", "arn:aws:s3:::bucket/a", "implicitDeny"), ("s3:PutObject", "arn:aws:s3:::other/b", "implicitDeny")],
                 id="SIM-action-major-input-order"),
    pytest.param({"PolicyInputList": [DENY_DELETE], "ActionNames": ["s3:DeleteObject", "s3:GetObject"]},
                 [("s3:DeleteObject", "*", "explicitDeny"), ("s3:GetObject", "*", "allowed")], id="SIM-default-resource-star"),
    pytest.param({"PolicyInputList": [], "ActionNames": ["s3:GetObject"]}, [("s3:GetObject", "*", "implicitDeny")], id="SIM-no-policies"),
    pytest.param({"PolicyInputList": [ALLOW_GET, DENY_DELETE], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::bucket/a"]},
                 [("s3:GetObject", "arn:aws:s3:::bucket/a", "allowed")], id="SIM-several-policies"),
])
def test_decisions_in_input_order(document: dict[str, Any], decisions: list[tuple[str, str, str]]) -> None:
    results = one(document)
    assert [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in results] == decisions


def test_explicit_deny_lists_deny_statement_only() -> None:
    [result] = one({"PolicyInputList": [DENY_DELETE], "ActionNames": ["s3:DeleteObject"]})
    assert [s["SourcePolicyId"] for s in result["MatchedStatements"]] == ["PolicyInputList.1"]
    assert result["MatchedStatements"][0]["StartPosition"]["Column"] > 40   # the second statement


@pytest.mark.parametrize("entries,decision,missing", [
    pytest.param([], "implicitDeny", ["aws:SourceIp"], id="SIM-missing-context-values"),
    pytest.param([{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"}], "allowed", [], id="SIM-context-entries"),
    pytest.param([{"ContextKeyName": "AWS:SOURCEIP", "ContextKeyValues": ["192.0.2.1"], "ContextKeyType": "ip"}], "implicitDeny", [], id="SIM-context-key-case"),
])
def test_context_entries(entries: list[dict[str, Any]], decision: str, missing: list[str]) -> None:
    [result] = one({"PolicyInputList": [CONDITIONAL], "ActionNames": ["s3:GetObject"], "ContextEntries": entries})
    assert result["EvalDecision"] == decision and result["MissingContextValues"] == missing


def test_resource_policy_and_caller() -> None:
    bucket = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::bucket/*"}]})
    base = {"PolicyInputList": [], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::bucket/k"],
            "ResourcePolicy": bucket, "ResourceOwner": f"arn:aws:iam::{ACCOUNT}:root"}
    [bob] = one(dict(base, CallerArn=f"arn:aws:iam::{ACCOUNT}:user/bob"))
    [eve] = one(dict(base, CallerArn=f"arn:aws:iam::{ACCOUNT}:user/eve"))
    assert bob["EvalDecision"] == "allowed" and eve["EvalDecision"] == "implicitDeny"
    assert bob["MatchedStatements"][0] | {"StartPosition": None, "EndPosition": None} == {
        "SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "Resource Policy", "StartPosition": None, "EndPosition": None}
    assert bob["EvalDecisionDetails"] == {}


def test_cross_account_details() -> None:
    # SIM: EvalDecisionDetails is populated for cross-account simulations.
    bucket = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "210987654321"}, "Action": "s3:GetObject", "Resource": "*"}]})
    [result] = one({"PolicyInputList": [], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::bucket/k"],
                    "ResourcePolicy": bucket, "ResourceOwner": f"arn:aws:iam::{ACCOUNT}:root",
                    "CallerArn": "arn:aws:iam::210987654321:user/alien"})
    assert result["EvalDecision"] == "implicitDeny"
    assert result["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}


def test_same_account_star_resource_has_no_details() -> None:
    [result] = one({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"]})
    assert "EvalDecisionDetails" not in result


def test_permissions_boundary() -> None:
    boundary = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]})
    [result] = one({"PolicyInputList": [DENY_DELETE], "PermissionsBoundaryPolicyInputList": [boundary],
                    "ActionNames": ["s3:GetObject"]})
    assert result["EvalDecision"] == "implicitDeny"
    assert result["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


@pytest.mark.parametrize("identity,expected", [
    pytest.param([], "implicitDeny", id="SIM-KMS-root-statement-delegates-needs-iam"),
    pytest.param([DECRYPT], "allowed", id="SIM-KMS-delegation-plus-iam"),
])
def test_kms_key_policy_semantics(identity: list[str], expected: str) -> None:
    [result] = one({"PolicyInputList": identity, "ActionNames": ["kms:Decrypt"], "ResourceArns": [KEY],
                    "ResourcePolicy": KEY_POLICY_ROOT, "ResourceOwner": f"arn:aws:iam::{ACCOUNT}:root",
                    "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/tester"})
    assert result["EvalDecision"] == expected


def test_non_key_resource_keeps_resource_policy_semantics() -> None:
    # SIM-KMS: only KMS key ARNs get key-policy semantics; for an alias ARN the policy is a
    # resource policy, where an IAM allow suffices although the policy names another account.
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/a"
    elsewhere = KEY_POLICY_ROOT.replace(ACCOUNT, "999999999999")
    document = {"PolicyInputList": [DECRYPT], "ActionNames": ["kms:Decrypt"], "ResourcePolicy": elsewhere,
                "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/tester"}
    [as_alias] = one(dict(document, ResourceArns=[alias]))
    [as_key] = one(dict(document, ResourceArns=[KEY]))
    assert (as_alias["EvalDecision"], as_key["EvalDecision"]) == ("allowed", "implicitDeny")


ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize("trust,identity,expected", [
    # IAM User Guide, "How AWS enforcement code logic evaluates requests to allow or deny access": role
    # trust policies must allow explicitly, even in the same account.
    pytest.param(_trust(f"arn:aws:iam::{ACCOUNT}:user/alice"), [ASSUME], "implicitDeny", id="SIM-TRUST-other-user-named"),
    pytest.param(_trust(f"arn:aws:iam::{ACCOUNT}:user/tester"), [], "allowed", id="SIM-TRUST-caller-named-alone"),
    pytest.param(_trust(f"arn:aws:iam::{ACCOUNT}:root"), [], "implicitDeny", id="SIM-TRUST-account-delegates-needs-iam"),
    pytest.param(_trust(f"arn:aws:iam::{ACCOUNT}:root"), [ASSUME], "allowed", id="SIM-TRUST-account-plus-iam"),
    pytest.param(None, [ASSUME], "implicitDeny", id="SIM-TRUST-unknown-trust-policy-fails-closed"),
])
def test_assume_role_on_a_role_arn_has_trust_policy_semantics(trust: str | None, identity: list[str], expected: str) -> None:
    document: dict[str, Any] = {"PolicyInputList": identity, "ActionNames": ["sts:AssumeRole"], "ResourceArns": [ROLE],
                                "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/tester"}
    if trust is not None:
        document["ResourcePolicy"] = trust
    [result] = one(document)
    assert result["EvalDecision"] == expected


def test_resource_owner_sets_the_resource_account() -> None:
    perimeter = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                            "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}}]})
    base = {"PolicyInputList": [perimeter], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::b/k"],
            "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/tester"}
    [owned] = one(dict(base, ResourceOwner=f"arn:aws:iam::{ACCOUNT}:root"))
    [elsewhere] = one(dict(base, ResourceOwner="arn:aws:iam::999999999999:root",
                           ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
                               {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})))
    [unknown] = one(base)
    assert (owned["EvalDecision"], elsewhere["EvalDecision"], unknown["EvalDecision"]) == ("allowed", "implicitDeny", "implicitDeny")
    assert unknown["MissingContextValues"] == ["aws:ResourceAccount"]


def test_json_lines_one_output_per_line_and_blank_lines_skipped() -> None:
    lines = [json.dumps({"PolicyInputList": [ALLOW_GET], "ActionNames": [a]}) for a in ("s3:GetObject", "s3:PutObject", "s3:GetObject")]
    code, out, err = simulate(lines[0] + "\n\n" + lines[1] + "\n" + lines[2] + "\n")
    assert code == 0 and err == ""
    assert [o["EvaluationResults"][0]["EvalActionName"] for o in out] == ["s3:GetObject", "s3:PutObject", "s3:GetObject"]


def test_single_pretty_printed_document() -> None:
    text = json.dumps({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"]}, indent=2)
    code, out, err = simulate(text)
    assert code == 0 and len(out) == 1 and out[0]["EvaluationResults"][0]["EvalActionName"] == "s3:GetObject"


def test_empty_input() -> None:
    assert simulate("") == (0, [], "")


GOOD = json.dumps({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"]})


@pytest.mark.parametrize("bad,fragment", [
    pytest.param("{not json", "invalid JSON", id="SIM-bad-json"),
    pytest.param('{"PolicyInputList": []}', "missing required parameter ActionNames", id="SIM-missing-action-names"),
    pytest.param('{"ActionNames": "s3:GetObject"}', "ActionNames must be a list of strings", id="SIM-wrong-type"),
    pytest.param('{"ActionNames": []}', "ActionNames must not be empty", id="SIM-empty-actions"),
    pytest.param('[1, 2]', "input must be a JSON object", id="SIM-not-an-object"),
    pytest.param('{"ActionNames": ["s3:x"], "PolicyInputList": ["{bad"]}', "PolicyInputList.1: malformed policy", id="SIM-malformed-policy-json"),
    pytest.param('{"ActionNames": ["s3:x"], "PolicyInputList": [' + json.dumps(json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}}]})) + ']}',
        "unknown condition operator", id="SIM-unknown-operator"),
    pytest.param('{"ActionNames": ["s3:x"], "PolicyInputList": [' + json.dumps(json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]})) + ']}',
        "Effect must be Allow or Deny", id="SIM-bad-effect"),
    pytest.param('{"ActionNames": ["s3:x"], "ResourcePolicy": ' + json.dumps(json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]})) + '}',
        "ResourcePolicy: malformed policy", id="SIM-resource-policy-needs-principal"),
    pytest.param('{"ActionNames": ["s3:x"], "ResourceOwner": "123"}', "ResourceOwner must be an account ARN", id="SIM-bad-owner"),
    pytest.param('{"ActionNames": ["s3:x"], "CallerArn": "bob"}', "CallerArn", id="SIM-bad-caller"),
    pytest.param('{"ActionNames": ["s3:x"], "ContextEntries": [{"ContextKeyValues": ["a"]}]}', "ContextKeyName", id="SIM-context-without-name"),
    pytest.param('{"ActionNames": ["s3:x"], "ContextEntries": [{"ContextKeyName": "k", "ContextKeyValues": ["a"], "ContextKeyType": "text"}]}',
                 "unknown ContextKeyType", id="SIM-bad-context-type"),
    pytest.param('{"ActionNames": ["s3:x"], "ActionName": ["s3:y"]}', "unknown parameter ActionName", id="SIM-unknown-parameter"),
])
def test_malformed_line_exits_2_with_line_number(bad: str, fragment: str) -> None:
    code, out, err = simulate(GOOD + "\n" + GOOD + "\n" + bad + "\n" + GOOD + "\n", source="cases.jsonl")
    assert code == 2
    assert len(out) == 2                      # earlier lines were printed, later ones were not
    assert err.startswith("cases.jsonl:3: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_malformed_first_line_of_json_lines() -> None:
    code, out, err = simulate("{oops\n" + GOOD + "\n")
    assert code == 2 and out == [] and err.startswith("<stdin>:1: ".replace("<stdin>", "in.jsonl"))


def test_default_source_name() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(io.StringIO("{}\n"), out, err) == 2
    assert err.getvalue().startswith("<stdin>:1: ")


def test_simulate_document_api() -> None:
    result = simulate_document({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"]})
    assert result["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"  # resource "*" is not bucket/*


def test_module_imports_nothing_heavy() -> None:
    import subprocess
    import sys
    code = ("import sys, orchestrator.authz.simulate, orchestrator.authz.engine.evaluate; "
            "bad = [m for m in ('boto3', 'botocore', 'moto', 'pydantic', 'yaml') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("policies", [
    pytest.param([], id="SIM-GCI-no-policy"),
    pytest.param([json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "sts:GetCallerIdentity", "Resource": "*"}]})], id="SIM-GCI-explicit-deny"),
])
def test_get_caller_identity_is_allowed(policies: list[str]) -> None:
    # STS API Reference, "GetCallerIdentity": no permission is required, and a deny does not stop it.
    [result] = one({"PolicyInputList": policies, "ActionNames": ["sts:GetCallerIdentity"]})
    assert (result["EvalDecision"], result["MatchedStatements"]) == ("allowed", [])
    assert result["OrchestrateReason"] == "sts:GetCallerIdentity needs no permission and cannot be denied"


def test_key_arn_without_resource_policy_fails_closed() -> None:
    # KMS "Key policies in AWS KMS": every key has a key policy, and an IAM policy alone never allows.
    caller = f"arn:aws:iam::{ACCOUNT}:user/tester"
    [result] = one({"PolicyInputList": [DECRYPT], "ActionNames": ["kms:Decrypt"], "ResourceArns": [KEY], "CallerArn": caller})
    assert (result["EvalDecision"], result["MatchedStatements"]) == ("implicitDeny", [])
    assert result["OrchestrateReason"] == ("no key policy was given for the KMS key: without a key policy that allows it, "
                                           f"no IAM policy can allow kms:Decrypt on {KEY} for {caller}")


def test_every_result_carries_the_engine_reason() -> None:
    [allowed, denied] = one({"PolicyInputList": [DENY_DELETE], "ActionNames": ["s3:GetObject", "s3:DeleteObject"]})
    assert allowed["OrchestrateReason"] == "s3:GetObject is allowed by statement #1 of identity policy PolicyInputList.1"
    assert denied["OrchestrateReason"] == 's3:DeleteObject on * is explicitly denied by statement "NoDelete" of identity policy PolicyInputList.1'


def test_simulate_document_leaves_the_reason_out_by_default() -> None:
    # The IAM API answers (SimulateCustomPolicy in-process and over HTTP) keep AWS's shape.
    result = simulate_document({"PolicyInputList": [ALLOW_GET], "ActionNames": ["s3:GetObject"]})
    assert "OrchestrateReason" not in result["EvaluationResults"][0]
