"""The key policy lockout guard (orchestrator/resources/lockout.py) with KmsKey.

AWS KMS API Reference, CreateKey/PutKeyPolicy BypassPolicyLockoutSafetyCheck: a key policy must let
the caller call PutKeyPolicy again unless the check is bypassed. KMS Developer Guide, "Default key
policy". STS GetCallerIdentity returns assumed-role ARNs, which key policies cannot name as such.
"""
from __future__ import annotations

import pytest
from res_support import (
    ACCOUNT, ACCOUNT_ADMIN, CALLER, actions, apply, doc, key_policy, key_statement, live_key, mutating_ops,
    ops, plan, record, statements_by_sid,
)

from orchestrator.model.normalise import normalise_policy
from orchestrator.resources.context import Context
from orchestrator.resources.lockout import (
    MANAGEMENT_ACTIONS, MANAGEMENT_SID, LockoutError, guard_policy, management_statement, principal_arn,
)

DENY_POLICY_UPDATES = key_statement("NoPolicyChanges", "*", "kms:PutKeyPolicy", effect="Deny")


def locked(mode: str = "guard") -> dict:
    return {"users": {"tester": {}}, "keys": {"data": {"lockout": mode, "policy": doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES)}}}


@pytest.mark.parametrize(("caller", "expected"), [
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OrchestrateAdmin/session-1", f"arn:aws:iam::{ACCOUNT}:role/OrchestrateAdmin"),
    (f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/Ops/alice@example.com", f"arn:aws-cn:iam::{ACCOUNT}:role/Ops"),
    (f"arn:aws:sts::{ACCOUNT}:user/moto", CALLER),
    (f"arn:aws:iam::{ACCOUNT}:user/ci/deployer", f"arn:aws:iam::{ACCOUNT}:user/ci/deployer"),
    (f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root"),
    (f"arn:aws:sts::{ACCOUNT}:federated-user/bob", f"arn:aws:sts::{ACCOUNT}:federated-user/bob"),
])
def test_principal_arn(caller, expected):
    """GetCallerIdentity ARNs to principals a key policy accepts: an assumed-role session becomes
    its role, an STS user ARN the IAM user; IAM ARNs and federated users are kept."""
    assert principal_arn(caller) == expected


class _Identity:
    """Just what guard_policy reads from a backend: the caller identity, account and region."""

    region = "us-east-1"
    account_id = ACCOUNT

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def identity(self) -> dict[str, str]:
        return {"Account": ACCOUNT, "Arn": self.arn, "UserId": "AIDAEXAMPLE"}


def _guard(policy: dict, mode: str = "guard", caller: str = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s") -> dict:
    return guard_policy(Context(_Identity(caller), "res"), "data", policy, mode)


def test_guard_adds_one_management_statement_for_the_callers_role():
    """The management statement names the role behind an assumed-role caller, lists the management
    actions (no kms:* wildcard), and is not added twice."""
    guarded = _guard(doc(ACCOUNT_ADMIN))
    statements = statements_by_sid(guarded)

    assert set(statements) == {"AccountAdmin", MANAGEMENT_SID}
    assert statements[MANAGEMENT_SID]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"}
    assert "kms:PutKeyPolicy" in statements[MANAGEMENT_SID]["Action"]
    assert statements[MANAGEMENT_SID]["Action"] == MANAGEMENT_ACTIONS and "kms:*" not in MANAGEMENT_ACTIONS
    assert _guard(guarded)["Statement"] == guarded["Statement"]


def test_guard_refuses_only_a_deny_that_reaches_the_caller():
    """An explicit Deny of kms:PutKeyPolicy for everyone locks the caller out; one for another
    principal does not; `allow` returns the policy untouched."""
    with pytest.raises(LockoutError, match="NoPolicyChanges"):
        _guard(doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES))

    other = key_statement("NoTesterChanges", f"arn:aws:iam::{ACCOUNT}:user/tester", "kms:PutKeyPolicy", effect="Deny")
    assert MANAGEMENT_SID in statements_by_sid(_guard(doc(ACCOUNT_ADMIN, other)))

    written = doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES)
    assert _guard(written, mode="allow") is written


def test_locking_policy_is_refused_before_any_kms_call(backend):
    """With `lockout: guard` (the default) a policy that denies kms:PutKeyPolicy to "*" raises
    LockoutError in plan and apply; no KMS API is called and no key exists."""
    with pytest.raises(LockoutError):
        plan(backend, locked())
    with pytest.raises(LockoutError, match="keys.data.policy"):
        apply(backend, locked())

    assert [service for service, _, _ in backend.log.calls if service == "kms"] == []
    assert backend.client("kms").list_keys()["Keys"] == []


def test_guard_sends_management_statement_naming_the_caller(backend):
    """CreateKey with BypassPolicyLockoutSafetyCheck=False and the policy plus Sid
    OrchestrateKeyManagement for moto's caller, arn:aws:iam::123456789012:user/moto."""
    sent = record(backend, "CreateKey")
    apply(backend, {"keys": {"data": {"policy": doc(ACCOUNT_ADMIN)}}})

    assert sent[0]["BypassPolicyLockoutSafetyCheck"] is False
    statements = statements_by_sid(key_policy(backend, live_key(backend, "data")["KeyId"]))
    assert set(statements) == {"AccountAdmin", MANAGEMENT_SID}
    expected = management_statement(CALLER)
    assert normalise_policy({"Statement": [statements[MANAGEMENT_SID]]}) == normalise_policy({"Statement": [expected]})
    assert sorted(statements[MANAGEMENT_SID]["Action"]) == sorted(MANAGEMENT_ACTIONS)


def test_allow_sends_the_policy_as_written(backend):
    """`lockout: allow`: CreateKey with BypassPolicyLockoutSafetyCheck=True and exactly the declared
    statements (no management statement); a second apply changes nothing."""
    sent = record(backend, "CreateKey")
    apply(backend, locked("allow"))

    assert sent[0]["BypassPolicyLockoutSafetyCheck"] is True
    assert "CreateUser" in ops(backend)
    assert set(statements_by_sid(key_policy(backend, live_key(backend, "data")["KeyId"]))) == {"AccountAdmin", "NoPolicyChanges"}
    backend.log.clear()
    assert set(actions(apply(backend, locked("allow"))).values()) == {"no-op"}
    assert mutating_ops(backend) == []
