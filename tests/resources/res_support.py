"""Helpers shared by the resource reconciler tests (tests/resources/test_res_*.py)."""
from __future__ import annotations

import copy
from typing import Any

from orchestrator.reconcile.apply import apply_state, destroy
from orchestrator.backends.base import Backend
from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.observe import plan_state
from orchestrator.reconcile.plan import Plan
from orchestrator.resources.context import RunContext

ACCOUNT = "123456789012"
REGION = "us-east-1"
SCENARIO = "res"
#: moto's caller identity is arn:aws:sts::123456789012:user/moto; principal_arn makes it an IAM ARN.
CALLER = f"arn:aws:iam::{ACCOUNT}:user/moto"
AWS_POLICY = "arn:aws:iam::aws:policy/"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [copy.deepcopy(s) for s in statements]}


def allow(action: str | list[str], resource: str | list[str] = "*", sid: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if sid:
        statement["Sid"] = sid
    return statement


def key_statement(sid: str, principal: str, action: str | list[str] = "kms:*", effect: str = "Allow") -> dict[str, Any]:
    return {"Sid": sid, "Effect": effect, "Principal": {"AWS": principal} if principal != "*" else "*",
            "Action": action, "Resource": "*"}


ACCOUNT_ADMIN = key_statement("AccountAdmin", "account")


def desired(document: dict[str, Any]) -> DesiredState:
    return DesiredState.model_validate(copy.deepcopy(document))


def context(backend: Backend, **options: Any) -> RunContext:
    return RunContext(backend, options.pop("scenario", SCENARIO), **options)


def declared(backend: Backend, document: dict[str, Any], **options: Any) -> RunContext:
    """A fresh RunContext that knows the document's role paths and accounts (as a command's does)."""
    ctx = context(backend, **options)
    ctx.declare([desired(document)])
    return ctx


def apply(backend: Backend, document: dict[str, Any], **options: Any) -> Plan:
    """apply_state with a fresh RunContext (as one `orchestrate apply` run would have)."""
    return apply_state(declared(backend, document, **options), desired(document), "state")


def plan(backend: Backend, document: dict[str, Any], **options: Any) -> Plan:
    return plan_state(declared(backend, document, **options), desired(document), "state")


def teardown(backend: Backend, document: dict[str, Any], **options: Any) -> Plan:
    return destroy(declared(backend, document, **options), desired(document))


def actions(result: Plan) -> dict[str, str]:
    return {change.address: change.action.value for change in result.changes}


def pending(result: Plan) -> dict[str, list[str]]:
    """address -> changed property paths, for every change that is not a no-op."""
    return {c.address: [p.path for p in c.properties] for c in result.pending}


def mutating_ops(backend: Backend) -> list[str]:
    return [operation for _, operation, _ in backend.log.mutating()]


def ops(backend: Backend) -> list[str]:
    return [operation for _, operation, _ in backend.log.calls]


def first(calls: list[str], operation: str) -> int:
    assert operation in calls, f"{operation} was never called: {calls}"
    return calls.index(operation)


def last(calls: list[str], operation: str) -> int:
    assert operation in calls, f"{operation} was never called: {calls}"
    return len(calls) - 1 - calls[::-1].index(operation)


def record(backend: Backend, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later call of `operation` (filled in as calls happen)."""
    seen: list[dict[str, Any]] = []
    backend.observe(lambda service, name, params: seen.append(copy.deepcopy(params)) if name == operation else None)
    return seen


def key_tags(backend: Backend, key_id: str) -> dict[str, str]:
    answer = backend.client("kms").list_resource_tags(KeyId=key_id)
    return {t["TagKey"]: t["TagValue"] for t in answer.get("Tags", [])}


def tagged_keys(backend: Backend, name: str, run: str = "default", scenario: str = SCENARIO) -> list[dict[str, Any]]:
    """KeyMetadata of every key tagged as `name` of this scenario and run (pending deletion too)."""
    kms = backend.client("kms")
    found = []
    for entry in kms.list_keys()["Keys"]:
        tags = key_tags(backend, entry["KeyId"])
        if tags.get("orchestrate:name") == name and ownership(name, run, scenario).items() <= tags.items():
            found.append(kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"])
    return found


def live_key(backend: Backend, name: str, run: str = "default") -> dict[str, Any]:
    live = [k for k in tagged_keys(backend, name, run) if k["KeyState"] != "PendingDeletion"]
    assert len(live) == 1, f"expected one live key {name!r}, found {live}"
    return live[0]


def key_policy(backend: Backend, key_id: str) -> dict[str, Any]:
    import json

    return json.loads(backend.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def statements_by_sid(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    return {s.get("Sid", ""): s for s in statements}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def user_tags(backend: Backend, user: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backend.client("iam").list_user_tags(UserName=user)["Tags"]}


def ownership(name: str, run: str = "default", scenario: str = SCENARIO) -> dict[str, str]:
    return {"orchestrate:scenario": scenario, "orchestrate:run": run, "orchestrate:name": name}


def error_code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
