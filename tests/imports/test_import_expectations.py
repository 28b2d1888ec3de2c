"""Expectations proposed by the engine for an imported template: the seed exercise written by hand
in CloudFormation proposes the seed's outcome (tester, with AmazonDynamoDBFullAccess, is denied
the read of the CMK table by the key policy; admin is allowed), decided offline from a
DesiredWorld (orchestrator/prove/desired_world.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.imports import import_template
from orchestrator.imports.expectations import PLACEHOLDER_ACCOUNT, OfflineBackend, principals
from orchestrator.model.scenario import DesiredState

DATA = Path(__file__).parent / "data"


def _find(expectations: list[dict[str, Any]], principal: str, action: str, resource: str) -> dict[str, Any]:
    return next(e for e in expectations if (e["as"], e["action"], e["resource"]) == (principal, action, resource))


def test_the_hand_written_seed_proposes_the_seed_outcome() -> None:
    result = import_template(DATA / "seed.yaml")
    state, = result.scenario["states"]
    expectations = state["expectations"]
    tester = _find(expectations, "tester", "dynamodb:GetItem", "table:orders")
    assert tester == {"as": "tester", "action": "dynamodb:GetItem", "resource": "table:orders",
                      "key": {"order_id": "example"}, "expect": "denied", "layer": "key-policy"}
    admin = _find(expectations, "admin", "dynamodb:GetItem", "table:orders")
    assert admin["expect"] == "allowed" and "layer" not in admin
    assert _find(expectations, "admin", "kms:Decrypt", "key:DataKey")["expect"] == "allowed"
    assert _find(expectations, "tester", "kms:Decrypt", "key:DataKey")["layer"] == "key-policy"
    # every principal, every data action on every resource
    assert {(e["as"], e["action"]) for e in expectations} == {
        (p, a) for p in ("admin", "tester")
        for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "kms:Decrypt", "kms:Encrypt")}


def test_roles_are_proposed_when_the_account_or_a_user_may_assume_them() -> None:
    desired = DesiredState.model_validate({
        "users": {"caller": {}},
        "roles": {
            "by-account": {"trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "sts:AssumeRole"}]}},
            "by-user": {"trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "user:caller"}, "Action": "sts:AssumeRole"}]}},
            "service": {"trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                         "Action": "sts:AssumeRole"}]}},
        }})
    assert principals(desired) == [("caller", None), ("role:by-account", None), ("role:by-user", "caller")]


def test_rich_template_predictions_follow_its_policies() -> None:
    expectations = import_template(DATA / "rich.yaml").scenario["states"][0]["expectations"]
    # reader: the table policy names it for GetItem; its managed policy allows Query and ListBucket
    assert _find(expectations, "reader", "dynamodb:GetItem", "table:orders")["expect"] == "allowed"
    assert _find(expectations, "reader", "dynamodb:PutItem", "table:orders")["layer"] == "identity-policy"
    assert _find(expectations, "reader", "s3:ListBucket", "bucket:reports-2024")["expect"] == "allowed"
    assert _find(expectations, "role:reader-role", "dynamodb:Query", "table:orders")["expect"] == "allowed"
    assert not any(e["as"] == "role:LambdaRole" for e in expectations)


def test_the_offline_backend_is_a_documented_placeholder() -> None:
    backend = OfflineBackend("eu-west-1")
    assert (backend.account_id, backend.region) == (PLACEHOLDER_ACCOUNT, "eu-west-1") == ("123456789012", "eu-west-1")
    assert backend.identity()["Arn"] == "arn:aws:iam::123456789012:user/orchestrate"


def test_the_readme_example_proposes_what_the_readme_shows(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("# template.yaml")
    template = tmp_path / "template.yaml"
    template.write_text(readme[start:readme.index("```", start)])
    shown = readme[readme.index("proposes, among others:", start):]
    shown = shown[:shown.index("```", shown.index("```") + 3)]
    text = import_template(template).text
    for line in (line for line in shown.splitlines() if line.strip().startswith("- {as:")):
        assert line in text
