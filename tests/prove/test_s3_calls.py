"""The S3 calls of s3 expectations (orchestrator/prove/s3_calls.py), how their answers are read
(prove/assertions.py), and the undoing of allowed writes.

S3 API Reference: GetObject, HeadObject ("if the HEAD request generates an error, it returns a
generic code, such as ... 403 Forbidden": no body, so botocore's code is "403"), PutObject,
DeleteObject, ListObjectsV2 (s3:ListBucket).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.cli import main
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.assertions import Outcome, Prediction, deciding_layer, perform, undo_for
from orchestrator.prove.calls import Probes, call_for
from orchestrator.reconcile.apply import apply_state
from orchestrator.resources.context import RunContext
from orchestrator.resources.s3_objects import HASH_METADATA, body_hash

ROOT = Path(__file__).resolve().parents[2]
DESIRED = DesiredState.model_validate({
    "users": {"reader": {}},
    "buckets": {"docs": {"objects": [{"key": "a.txt", "body": "alpha"}]}},
})


class _Backend:
    account_id, region = "123456789012", "us-east-1"


def spec_for(action: str, resource: str, run_id: str | None = "R1") -> Any:
    expectation = Expectation.model_validate({"as": "reader", "action": action, "resource": resource, "expect": "allowed"})
    ctx = RunContext(_Backend(), "s", run_id=run_id)  # type: ignore[arg-type]
    return call_for(ctx, DESIRED, expectation, Probes(ctx))


@pytest.mark.parametrize("action, operation, method, params", [
    ("s3:GetObject", "GetObject", "get_object", {"Bucket": "r1-docs", "Key": "a.txt"}),
    ("s3:HeadObject", "HeadObject", "head_object", {"Bucket": "r1-docs", "Key": "a.txt"}),
    ("s3:DeleteObject", "DeleteObject", "delete_object", {"Bucket": "r1-docs", "Key": "a.txt"}),
    ("s3:PutObject", "PutObject", "put_object", {"Bucket": "r1-docs", "Key": "a.txt", "Body": b"orchestrate-probe"}),
])
def test_object_actions_call_the_operation_on_the_physical_bucket(action: str, operation: str, method: str, params: dict[str, Any]) -> None:
    spec = spec_for(action, "object:docs/a.txt")
    assert (spec.service, spec.operation, spec.method, spec.params) == ("s3", operation, method, params)


def test_list_bucket_is_list_objects_v2() -> None:
    spec = spec_for("s3:ListBucket", "bucket:docs", run_id=None)
    assert (spec.operation, spec.method, spec.params, spec.undo) == ("ListObjectsV2", "list_objects_v2", {"Bucket": "docs"}, None)


def test_only_writes_are_undone() -> None:
    assert spec_for("s3:GetObject", "object:docs/a.txt").undo is None
    assert spec_for("s3:DeleteObject", "object:docs/absent.txt").undo is None  # nothing was there
    assert spec_for("s3:PutObject", "object:docs/new.txt").undo is not None
    assert spec_for("s3:DeleteObject", "object:docs/a.txt").undo is not None


class _DeniedHead:
    """A client whose HeadObject answers as botocore reads a body-less 403."""

    def head_object(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "HeadObject")


def test_a_head_403_is_a_denial_whose_layer_is_the_engines() -> None:
    spec = spec_for("s3:HeadObject", "object:docs/a.txt")
    outcome = perform(_DeniedHead(), spec)
    assert (outcome.allowed, outcome.errored, outcome.code) == (False, False, "403")
    assert deciding_layer(outcome, Prediction(False, "key-policy", "engine")) == "key-policy"
    assert deciding_layer(Outcome(False, "403", "Forbidden"), None) is None


def test_a_403_of_another_operation_is_not_read_as_a_decision() -> None:
    class Client:
        def get_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "GetObject")

    from orchestrator.prove.assertions import CallFailed

    with pytest.raises(CallFailed):
        perform(Client(), spec_for("s3:GetObject", "object:docs/a.txt"))


@pytest.fixture
def applied() -> Any:
    backend = EmbeddedBackend("us-east-1", gate=False)
    ctx = RunContext(backend, "s")
    apply_state(ctx, DESIRED, "s")
    yield ctx
    backend.close()


def _call(ctx: RunContext, action: str, resource: str) -> None:
    expectation = Expectation.model_validate({"as": "reader", "action": action, "resource": resource, "expect": "allowed"})
    spec = call_for(ctx, DESIRED, expectation, Probes(ctx))
    assert perform(ctx.backend.client("s3"), spec, undo_for(ctx, spec)).allowed


def test_an_allowed_put_of_a_new_object_is_deleted_again(applied: RunContext) -> None:
    _call(applied, "s3:PutObject", "object:docs/new.txt")
    assert [o["Key"] for o in applied.backend.client("s3").list_objects_v2(Bucket="docs")["Contents"]] == ["a.txt"]


@pytest.mark.parametrize("action", ["s3:PutObject", "s3:DeleteObject"])
def test_an_allowed_write_of_a_seed_puts_the_seed_back(applied: RunContext, action: str) -> None:
    _call(applied, action, "object:docs/a.txt")
    s3 = applied.backend.client("s3")
    assert s3.get_object(Bucket="docs", Key="a.txt")["Body"].read() == b"alpha"
    assert s3.head_object(Bucket="docs", Key="a.txt")["Metadata"] == {HASH_METADATA: body_hash("alpha")}


def test_a_refused_undo_is_the_expectations_call_failure(applied: RunContext) -> None:
    from orchestrator.prove.assertions import CallFailed

    expectation = Expectation.model_validate({"as": "reader", "action": "s3:PutObject", "resource": "object:docs/new.txt", "expect": "allowed"})
    spec = call_for(applied, DESIRED, expectation, Probes(applied))

    def refuse(service: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "DeleteObject":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)

    applied.backend.observe(refuse)
    with pytest.raises(CallFailed, match="s3:PutObject was allowed, but undoing it failed with AccessDenied"):
        perform(applied.backend.client("s3"), spec, undo_for(applied, spec))


def test_the_sse_kms_scenario_reports_the_layers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", str(ROOT / "scenarios" / "s3-sse-kms.yaml"), "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    first = report["states"][0]["expectations"]
    assert [(v["action"], v["actual"], v["layer"]) for v in first] == [
        ("s3:GetObject", "denied", "key-policy"), ("s3:HeadObject", "allowed", None),
        ("s3:ListBucket", "allowed", None), ("s3:GetObject", "allowed", None)]
    assert "kms:Decrypt denied by the key policy" in first[0]["reason"]
    assert report["access_changes"] == [{"state": "with-key-grant", "principal": "role:reader", "action": "s3:GetObject",
                                         "resource": "object:reports/q1.csv", "change": "gained"}]
