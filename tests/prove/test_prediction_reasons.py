"""The prediction's reason, as text and JSON reports show it (issue 10, item 9): it names the
policies and statements the engine used, says an explicit deny once, and carries the failed
condition of a statement that did not apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.authz.decide import Decision, PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.services import Authorization
from orchestrator.prove.calls import CallSpec
from orchestrator.prove.prediction import predict

ACCOUNT = "123456789012"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT)
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
DDB_FULL = PolicySource("identity", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kms:DescribeKey"], "Resource": "*"}]})
ENABLE_IAM = {"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
              "Action": "kms:*", "Resource": "*"}
SPEC = CallSpec("dynamodb", "GetItem", "get_item", {})


@dataclass
class _Error:
    code: str
    message: str


@dataclass
class _Verdict:
    allowed: bool
    steps: list[tuple[Authorization, Decision]]
    layer: str | None = None
    error: _Error | None = None


@dataclass
class _Gate:
    """Stands in for the gate: its steps' decisions come from the real engine."""

    verdict: _Verdict
    asked: list[Any] = field(default_factory=list)

    def predict(self, *args: Any) -> _Verdict:
        self.asked.append(args)
        return self.verdict


def step(action: str, resource: str, key_statements: list[dict[str, Any]] | None = None,
         identity: list[PolicySource] | None = None, context: dict[str, list[str]] | None = None) -> tuple[Authorization, Decision]:
    policy = None if key_statements is None else PolicySource("key", f"key policy {resource}",
                                                               {"Version": "2012-10-17", "Statement": key_statements})
    decision = evaluate(Request(USER, action, resource, context or {}),
                        PolicyInputs(identity=identity if identity is not None else [DDB_FULL], resource_policy=policy))
    return Authorization(action, resource), decision


def reason_of(*steps: tuple[Authorization, Decision]) -> tuple[bool, str]:
    denied = [decision for _, decision in steps if not decision.allowed]
    verdict = _Verdict(not denied, list(steps), denied[0].layer if denied else None,
                       _Error("AccessDeniedException", "denied") if denied else None)
    prediction = predict(_Gate(verdict), USER.arn, SPEC)
    return prediction.allowed, prediction.reason


def test_allow_through_a_managed_policy_and_a_delegating_key_statement() -> None:
    allowed, reason = reason_of(step("dynamodb:GetItem", TABLE), step("kms:DescribeKey", KEY, [ENABLE_IAM]))
    assert allowed
    assert reason == ("dynamodb:GetItem is allowed by statement #1 of managed policy AmazonDynamoDBFullAccess; "
                      "kms:DescribeKey is allowed by statement #1 of managed policy AmazonDynamoDBFullAccess; "
                      'statement "EnableIAMUserPermissions" of the key policy delegates kms:DescribeKey to account 123456789012')


def test_explicit_deny_is_said_once() -> None:
    deny = PolicySource("identity", "user inline deny-decrypt", {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]})
    allowed, reason = reason_of(step("dynamodb:GetItem", TABLE), step("kms:Decrypt", KEY, [ENABLE_IAM], [DDB_FULL, deny]))
    assert not allowed
    assert reason == f'kms:Decrypt on {KEY} is explicitly denied by statement "DenyDecrypt" of inline policy deny-decrypt of user tester'


def test_conditional_key_statement_that_did_not_apply_is_named_with_its_condition() -> None:
    via = {"Sid": "TesterViaDynamoDB", "Effect": "Allow", "Principal": {"AWS": USER.arn}, "Action": "kms:Decrypt",
           "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}}
    allowed, reason = reason_of(step("kms:Decrypt", KEY, [via], context={"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}))
    assert not allowed
    assert reason == (f"kms:Decrypt denied by the key policy: no statement in the key policy allows kms:Decrypt on {KEY} "
                      f'for {USER.arn}; statement "TesterViaDynamoDB" of the key policy did not apply: StringEquals '
                      'kms:ViaService (expected "dynamodb.us-east-1.amazonaws.com", actual "s3.us-east-1.amazonaws.com")')
