"""KMS grants (orchestrator/resources/kms_grant.py) against moto through the embedded backend.

AWS KMS API Reference: CreateGrant (Name, Constraints), ListGrants, RevokeGrant; KMS Developer
Guide, "Grants in AWS KMS".
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from res_support import ACCOUNT, ACCOUNT_ADMIN, actions, apply, context, desired, doc, mutating_ops, pending, plan, teardown

from orchestrator.model.scenario import DesiredState
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.resources.kms_key import KmsKey

READER = f"arn:aws:iam::{ACCOUNT}:user/reader"


def scenario(**grant_overrides: Any) -> dict[str, Any]:
    grant: dict[str, Any] = {"grantee": "user:reader", "operations": ["Decrypt", "GenerateDataKey"],
                             "constraints": {"encryption_context_equals": {"purpose": "orders"}}}
    grant.update(grant_overrides)
    return {"users": {"reader": {}},
            "keys": {"data": {"policy": doc(ACCOUNT_ADMIN), "grants": {"reading": grant}}}}


def grants(backend: Any) -> list[dict[str, Any]]:
    key_id = KmsKey().find(context(backend), "data")
    return backend.client("kms").list_grants(KeyId=key_id)["Grants"]


def test_create_makes_the_declared_grant_with_its_name_and_constraints(backend):
    assert actions(plan(backend, scenario()))["kms_grant.data"] == "create"
    no_grants = scenario()
    no_grants["keys"]["data"]["grants"] = {}
    assert "kms_grant.data" not in actions(plan(backend, no_grants))  # vacant: nothing to plan

    apply(backend, scenario(retiring_principal="user:reader"))

    [grant] = grants(backend)
    assert grant["Name"] == "orchestrate/reading"
    assert grant["GranteePrincipal"] == READER and grant["RetiringPrincipal"] == READER
    assert sorted(grant["Operations"]) == ["Decrypt", "GenerateDataKey"]
    assert grant["Constraints"] == {"EncryptionContextEquals": {"purpose": "orders"}}


def test_reapply_makes_no_mutating_call(backend):
    apply(backend, scenario())
    backend.log.calls.clear()

    result = apply(backend, scenario())

    assert actions(result)["kms_grant.data"] == "no-op"
    assert mutating_ops(backend) == []


def test_a_changed_grant_is_revoked_and_created_again(backend):
    apply(backend, scenario())
    [old] = grants(backend)
    backend.log.calls.clear()

    apply(backend, scenario(operations=["Decrypt"], constraints={"encryption_context_subset": {"purpose": "orders"}}))

    assert mutating_ops(backend) == ["RevokeGrant", "CreateGrant"]
    [new] = grants(backend)
    assert new["GrantId"] != old["GrantId"]
    assert new["Operations"] == ["Decrypt"]
    assert new["Constraints"] == {"EncryptionContextSubset": {"purpose": "orders"}}


def test_a_grant_removed_from_the_scenario_is_revoked(backend):
    apply(backend, scenario())
    without = scenario()
    without["keys"]["data"]["grants"] = {}

    apply(backend, without)

    assert grants(backend) == []
    assert pending(plan(backend, without)) == {}


def drift(backend: Any, document: dict[str, Any]) -> list[Any]:
    ctx = context(backend)
    return [d for pair in observe_all(ctx, DesiredState.model_validate(document))
            if pair.reconciler.kind == "kms_grant" for d in differences(pair)]


def test_drift_reports_an_out_of_band_grant_as_widening(backend):
    apply(backend, scenario())
    key_id = KmsKey().find(context(backend), "data")
    backend.client("kms").create_grant(KeyId=key_id, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/intruder",
                                       Operations=["Decrypt"])

    [found] = drift(backend, scenario())

    assert (found.kind, found.widens_access) == ("ADD", True)
    assert found.actual["grantee"] == f"arn:aws:iam::{ACCOUNT}:user/intruder"
    apply(backend, scenario())  # converges: the out-of-band grant is revoked
    assert [g.get("Name") for g in grants(backend)] == ["orchestrate/reading"]


def test_drift_reports_a_missing_grant_as_narrowing_and_apply_recreates_it(backend):
    apply(backend, scenario())
    [ours] = grants(backend)
    backend.client("kms").revoke_grant(KeyId=ours["KeyId"], GrantId=ours["GrantId"])

    [found] = drift(backend, scenario())

    assert (found.kind, found.widens_access) == ("MISSING", False)  # the key's only grant: nothing there
    apply(backend, scenario())
    assert [g.get("Name") for g in grants(backend)] == ["orchestrate/reading"]


def test_drift_of_a_widened_grant_and_of_a_constraint_removed(backend):
    apply(backend, scenario())
    kms = backend.client("kms")
    key_id = KmsKey().find(context(backend), "data")
    [ours] = grants(backend)
    kms.revoke_grant(KeyId=key_id, GrantId=ours["GrantId"])
    kms.create_grant(KeyId=key_id, Name="orchestrate/reading", GranteePrincipal=READER,
                     Operations=["Decrypt", "GenerateDataKey", "Encrypt"])

    found = {(d.path, d.widens_access) for d in drift(backend, scenario())}

    assert found == {("grants.orchestrate/reading.operations[1]", True),
                     ("grants.orchestrate/reading.constraints", True)}


def test_destroy_revokes_the_grants_before_the_key_is_scheduled(backend):
    apply(backend, scenario())
    key_id = KmsKey().find(context(backend), "data")
    backend.log.calls.clear()

    result = teardown(backend, scenario())

    assert actions(result)["kms_grant.data"] == "delete"
    calls = mutating_ops(backend)
    assert calls.index("RevokeGrant") < calls.index("ScheduleKeyDeletion")
    assert backend.client("kms").list_grants(KeyId=key_id)["Grants"] == []


def test_a_key_without_grants_plans_no_call(backend):
    document = scenario()
    document["keys"]["data"]["grants"] = {}
    apply(backend, document)
    backend.log.calls.clear()

    apply(backend, document)

    assert mutating_ops(backend) == []


@pytest.mark.parametrize("operation", ["CreateGrant", "RevokeGrant"])
def test_a_fault_at_a_grant_call_converges_on_the_next_apply(backend, operation):
    apply(backend, scenario(operations=["Decrypt"]))

    def observer(service: str, name: str, params: dict[str, Any]) -> None:
        if name == operation:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, name)

    undo = backend.observe(observer)
    with pytest.raises(ClientError):
        apply(backend, scenario())
    undo()
    assert pending(plan(backend, scenario())) != {}

    apply(backend, scenario())

    assert pending(plan(backend, scenario())) == {}
    [grant] = grants(backend)
    assert sorted(grant["Operations"]) == ["Decrypt", "GenerateDataKey"]


# ---- the gate decides with the grants orchestrate made ---------------------------------------
# KMS Developer Guide, "Grants in AWS KMS": a grant allows the grantee the listed operations on
# the key, even when the key policy does not name it; "Grant constraints": with
# EncryptionContextEquals the request's encryption context must be exactly the pairs, with
# EncryptionContextSubset it must contain them.
ORDERS = {"purpose": "orders"}
GATE_CASES = [
    # (constraints, context of the Encrypt/Decrypt, allowed?)
    ({"encryption_context_equals": ORDERS}, ORDERS, True),
    ({"encryption_context_equals": ORDERS}, {}, False),
    ({"encryption_context_equals": ORDERS}, {**ORDERS, "extra": "x"}, False),
    ({"encryption_context_subset": ORDERS}, {**ORDERS, "extra": "x"}, True),
    ({"encryption_context_subset": ORDERS}, {"purpose": "billing"}, False),
    (None, {}, True),
]


@pytest.fixture
def gated():
    from orchestrator.backends.embedded import EmbeddedBackend
    from res_support import REGION

    created = EmbeddedBackend(REGION)
    try:
        yield created
    finally:
        created.close()


def reader_kms(backend: Any) -> Any:
    from orchestrator.backends.base import Credentials

    key = backend.client("iam").create_access_key(UserName="reader")["AccessKey"]
    return backend.client("kms", Credentials(key["AccessKeyId"], key["SecretAccessKey"]))


@pytest.mark.parametrize(("constraints", "context", "allowed"), GATE_CASES)
def test_gate_allows_decrypt_through_the_grant_only_with_its_encryption_context(gated, constraints, context, allowed):
    """The key policy names only the account's root and the reader has no IAM policy: the grant
    orchestrate made is the only thing that can allow the reader's Decrypt."""
    apply(gated, scenario(operations=["Decrypt"], constraints=constraints))
    key_arn = context_key_arn(gated)
    blob = gated.client("kms").encrypt(KeyId=key_arn, Plaintext=b"x", EncryptionContext=context)["CiphertextBlob"]
    kms = reader_kms(gated)

    if allowed:
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"x"
    else:
        with pytest.raises(ClientError) as denied:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_gate_denies_once_the_grant_is_revoked_and_grants_only_its_operations(gated):
    apply(gated, scenario(operations=["Decrypt"], constraints=None))
    kms = reader_kms(gated)
    key_arn = context_key_arn(gated)
    with pytest.raises(ClientError) as not_granted:
        kms.encrypt(KeyId=key_arn, Plaintext=b"x")
    assert not_granted.value.response["Error"]["Code"] == "AccessDeniedException"
    blob = gated.client("kms").encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    without = scenario()
    without["keys"]["data"]["grants"] = {}

    apply(gated, without)

    with pytest.raises(ClientError) as revoked:
        kms.decrypt(CiphertextBlob=blob)
    assert revoked.value.response["Error"]["Code"] == "AccessDeniedException"


def context_key_arn(backend: Any) -> str:
    ctx = context(backend)
    KmsKey().read(ctx, "data")
    return ctx.known["key:data"]


# ---- the model: located errors ------------------------------------------------------------------
SHIPPED = __import__("pathlib").Path(__file__).resolve().parents[2] / "scenarios" / "kms-grant.yaml"


def load_error(tmp_path: Any, old: str, new: str) -> tuple[str, str]:
    from orchestrator.loader import ScenarioError, load_scenario

    source = SHIPPED.read_text()
    assert old in source
    source = source.replace(old, new, 1)
    path = tmp_path / "bad.yaml"
    path.write_text(source)
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    return source, str(excinfo.value)


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def test_an_unknown_grant_operation_is_a_located_error(tmp_path):
    source, text = load_error(tmp_path, "operations: [Decrypt]", "operations: [Decrypt, DecryptAll]")
    assert f"bad.yaml:{line_of(source, 'DecryptAll')}:" in text
    assert "keys.data.grants.orders-reader.operations" in text and "GenerateDataKey" in text


def test_both_encryption_context_constraints_are_a_located_error(tmp_path):
    source, text = load_error(tmp_path, "          encryption_context_equals: {purpose: orders}\n",
                              "          encryption_context_equals: {purpose: orders}\n"
                              "          encryption_context_subset: {purpose: orders}\n")
    assert f"bad.yaml:{line_of(source, 'encryption_context_equals')}:" in text  # the mapping's first key
    assert "cannot both be given" in text and "keys.data.grants.orders-reader.constraints" in text


def test_a_grantee_naming_no_user_is_a_located_error(tmp_path):
    source, text = load_error(tmp_path, "grantee: user:reader", "grantee: user:ghost")
    assert f"bad.yaml:{line_of(source, 'user:ghost')}:" in text
    assert "'user:ghost' names no user of this scenario" in text


# ---- kms:CreateGrant as an expectation ----------------------------------------------------------

def test_an_allowed_create_grant_expectation_leaves_no_grant_behind(gated):
    """The call grants the principal itself Decrypt (KMS API Reference, "CreateGrant"); once it is
    allowed, orchestrate revokes that grant: only the scenario's own grant remains."""
    from orchestrator.backends.base import Credentials
    from orchestrator.model.scenario import Expectation
    from orchestrator.prove.assertions import perform, undo_for
    from orchestrator.prove.calls import Probes, call_for

    document = scenario()
    document["users"]["delegate"] = {"inline_policies": {"grants": doc(
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*"})}}
    apply(gated, document)
    ctx = context(gated)
    KmsKey().read(ctx, "data")
    expectation = Expectation.model_validate({"as": "delegate", "action": "kms:CreateGrant", "resource": "key:data",
                                              "expect": "allowed"})
    spec = call_for(ctx, desired(document), expectation, Probes(ctx))
    assert spec.params["GranteePrincipal"] == f"arn:aws:iam::{ACCOUNT}:user/delegate"
    key = gated.client("iam").create_access_key(UserName="delegate")["AccessKey"]
    client = gated.client("kms", Credentials(key["AccessKeyId"], key["SecretAccessKey"]))

    assert perform(client, spec, undo_for(ctx, spec)).allowed
    assert [g.get("Name") for g in grants(gated)] == ["orchestrate/reading"]
    assert perform(client, spec).allowed  # without the undo, the grant stays: what undo_for prevents
    assert len(grants(gated)) == 2


def test_an_out_of_band_grant_on_a_key_that_declares_none_is_widening_drift(backend):
    document = scenario()
    document["keys"]["data"]["grants"] = {}
    apply(backend, document)
    key_id = KmsKey().find(context(backend), "data")
    backend.client("kms").create_grant(KeyId=key_id, Name="by-hand", GranteePrincipal=READER, Operations=["Encrypt"])

    [found] = drift(backend, document)

    assert (found.path, found.kind, found.widens_access) == ("grants.by-hand", "ADD", True)
    apply(backend, document)
    assert grants(backend) == []
