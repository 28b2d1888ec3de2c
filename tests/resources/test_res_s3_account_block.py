"""The account-level S3 Block Public Access (orchestrator/resources/s3_account_block.py).

S3 API Reference (S3 Control): PutPublicAccessBlock / GetPublicAccessBlock /
DeletePublicAccessBlock with AccountId. S3 User Guide, "Blocking public access to your Amazon S3
storage": S3 applies the most restrictive combination of the account-level and bucket-level
settings, so a public bucket policy under the account's BlockPublicPolicy is refused by S3.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest
from res_support import (ACCOUNT, actions, apply, context, desired, doc, error_code, mutating_ops, plan, teardown)

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources import REGISTRY

PARTNER = "210987654321"
PUBLIC_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "object:docs/*"}


def scenario(block: dict[str, bool] | None = None, public_policy: bool = False, **accounts: dict[str, bool]) -> dict[str, Any]:
    document: dict[str, Any] = {"buckets": {"docs": {"policy": doc(PUBLIC_READ)} if public_policy else {}},
                                "account_public_access_block": {"home": block if block is not None else {}}}
    for name, settings in accounts.items():
        document.setdefault("accounts", {})[name] = PARTNER
        document["account_public_access_block"][name] = settings
    return document


def account_block(backend: EmbeddedBackend, account: str = ACCOUNT) -> dict[str, bool]:
    return dict(backend.client("s3control").get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"])


def drift(backend: EmbeddedBackend, document: dict[str, Any]) -> list[Any]:
    ctx = context(backend)
    ctx.declare([desired(document)])
    return [d for pair in observe_all(ctx, desired(document)) for d in differences(pair)
            if pair.reconciler.section == "account_public_access_block"]


def test_create_puts_the_account_setting_before_the_buckets(backend: EmbeddedBackend) -> None:
    calls: list[str] = []
    backend.observe(lambda service, operation, params: calls.append(f"{service}:{operation}"))
    result = apply(backend, scenario({"restrict_public_buckets": True}))
    assert actions(result)["s3_account_public_access_block.home"] == "create"
    assert calls.index("s3control:PutPublicAccessBlock") < calls.index("s3:CreateBucket")
    assert account_block(backend) == {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                                      "RestrictPublicBuckets": True}


def test_a_plan_shows_the_setting_to_create(backend: EmbeddedBackend) -> None:
    assert actions(plan(backend, scenario({"block_public_policy": True})))["s3_account_public_access_block.home"] == "create"
    assert mutating_ops(backend) == []


def test_a_second_apply_makes_no_mutating_call(backend: EmbeddedBackend) -> None:
    apply(backend, scenario({"restrict_public_buckets": True, "block_public_acls": True}))
    backend.log.clear()
    assert set(actions(apply(backend, scenario({"restrict_public_buckets": True, "block_public_acls": True}))).values()) == {"no-op"}
    assert mutating_ops(backend) == []


def test_a_changed_setting_is_put(backend: EmbeddedBackend) -> None:
    apply(backend, scenario({"restrict_public_buckets": True}))
    backend.log.clear()
    result = apply(backend, scenario({"restrict_public_buckets": False, "ignore_public_acls": True}))
    assert actions(result)["s3_account_public_access_block.home"] == "update"
    assert mutating_ops(backend) == ["PutPublicAccessBlock"]
    assert account_block(backend)["IgnorePublicAcls"] is True and account_block(backend)["RestrictPublicBuckets"] is False


def test_a_change_out_of_band_is_drift_and_put_back(backend: EmbeddedBackend) -> None:
    document = scenario({"block_public_policy": True})
    apply(backend, document)
    backend.client("s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": False, "BlockPublicAcls": True})
    found = {(d.resource, d.path, d.kind) for d in drift(backend, document)}
    assert found == {("s3_account_public_access_block.home", "BlockPublicPolicy", "NOT_EQUAL"),
                     ("s3_account_public_access_block.home", "BlockPublicAcls", "NOT_EQUAL")}
    backend.log.clear()
    apply(backend, document)
    assert mutating_ops(backend) == ["PutPublicAccessBlock"]
    assert drift(backend, document) == []


def test_a_deleted_setting_is_created_again(backend: EmbeddedBackend) -> None:
    document = scenario({"restrict_public_buckets": True})
    apply(backend, document)
    backend.client("s3control").delete_public_access_block(AccountId=ACCOUNT)
    assert actions(plan(backend, document))["s3_account_public_access_block.home"] == "create"


def test_destroy_deletes_the_setting(backend: EmbeddedBackend) -> None:
    document = scenario({"restrict_public_buckets": True})
    apply(backend, document)
    result = teardown(backend, document)
    assert actions(result)["s3_account_public_access_block.home"] == "delete"
    with pytest.raises(Exception) as caught:
        account_block(backend)
    assert error_code(caught.value) == "NoSuchPublicAccessBlockConfiguration"


def test_another_accounts_setting_is_put_in_that_account(backend: EmbeddedBackend) -> None:
    document = scenario({}, partner={"restrict_public_buckets": True})
    apply(backend, document)
    assert account_block(backend)["RestrictPublicBuckets"] is False
    from orchestrator.backends.accounts import in_account
    partner = in_account(backend, PARTNER)
    assert account_block(partner, PARTNER)["RestrictPublicBuckets"] is True  # type: ignore[arg-type]
    backend.log.clear()
    apply(backend, document)
    assert mutating_ops(backend) == []


def test_the_account_block_policy_refuses_a_public_bucket_policy_with_s3s_error() -> None:
    """Through the gate (AWS's answer, not the loader's): the account-level BlockPublicPolicy is in
    force for a bucket whose own setting is off."""
    gated = EmbeddedBackend("us-east-1", gate=True)
    try:
        apply(gated, scenario({"block_public_policy": True}))
        with pytest.raises(Exception) as caught:
            apply(gated, scenario({"block_public_policy": True}, public_policy=True))
        assert error_code(caught.value) == "AccessDenied"
        assert "BlockPublicPolicy" in str(caught.value)
    finally:
        gated.close()


def test_every_call_is_a_declared_permission(backend: EmbeddedBackend) -> None:
    """s3control's operations are authorized as s3:*AccountPublicAccessBlock (Service
    Authorization Reference): the gate's table maps each call made to its action."""
    from orchestrator.authz.services.generic import S3CONTROL_ACTIONS

    document = scenario({"restrict_public_buckets": True})
    apply(backend, document)
    changed = copy.deepcopy(document)
    changed["account_public_access_block"]["home"] = {"block_public_acls": True}
    apply(backend, changed)
    teardown(backend, changed)
    made = {S3CONTROL_ACTIONS[operation] for service, operation, _ in backend.log.calls if service == "s3control"}
    [reconciler] = [r for r in REGISTRY if r.kind == "s3_account_public_access_block"]
    assert made == set(reconciler.permissions)
