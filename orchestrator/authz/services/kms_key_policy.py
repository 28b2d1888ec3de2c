"""The KMS key policy's own rule (AWS KMS Developer Guide, "Key policies in AWS KMS"): every key
has exactly one key policy and it must allow (an IAM policy alone never does), so a KMS key ARN
decided without a key policy fails closed; naming the account delegates to IAM policies ("Allows
access to the AWS account and enables IAM policies"); "Grants in AWS KMS" are an alternative allow.
Handed an :class:`~orchestrator.authz.engine.evaluate.Evaluation` after the engine found no
explicit deny."""
from __future__ import annotations

from orchestrator.authz.engine.evaluate import (Evaluation, allowed_as_named, allowed_by_identity, limit_denial,
                                                role_limited)
from orchestrator.authz.engine.explain import Hit
from orchestrator.authz.engine.inputs import ALLOWED, IMPLICIT_DENY, Decision, Grant, StatementRef
from orchestrator.authz.services.kms_grants import matching_grants

__all__ = ["decide_with_key_policy", "no_key_policy", "CROSS_ACCOUNT_OPERATIONS", "not_across_accounts"]

#: The operations KMS performs on a key of another account (AWS KMS Developer Guide, "Allowing users
#: in other accounts to use a KMS key": "Cross-account permission is effective only for the following
#: operations": the cryptographic operations, CreateGrant, DescribeKey, GetKeyRotationStatus,
#: GetPublicKey, ListGrants, RetireGrant, RevokeGrant; and the "Cross-account use" column of "AWS KMS
#: permissions"). kms:ReEncryptFrom / kms:ReEncryptTo are ReEncrypt's two permissions.
CROSS_ACCOUNT_OPERATIONS = frozenset({
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext", "GenerateMac", "ReEncrypt", "ReEncryptFrom", "ReEncryptTo", "Sign",
    "Verify", "VerifyMac", "DeriveSharedSecret",
    "CreateGrant", "DescribeKey", "GetKeyRotationStatus", "GetPublicKey", "ListGrants", "RetireGrant", "RevokeGrant",
})
_CROSS_ACCOUNT_ACTIONS = frozenset(f"kms:{operation}".lower() for operation in CROSS_ACCOUNT_OPERATIONS)


def not_across_accounts(run: Evaluation) -> Decision | None:
    """The refusal of a KMS operation on another account's key that KMS does not perform across
    accounts (ScheduleKeyDeletion, PutKeyPolicy, DisableKey, GetKeyPolicy, TagResource, CreateAlias,
    ...), whatever the key policy and the caller's IAM policies say: the guide's own example is a
    kms:ScheduleKeyDeletion permission granted in a key policy to another account's principal, whose
    attempts "continue to fail". An implicit deny decided at the key policy: an explicit deny
    anywhere was applied before (it is what the engine checks first)."""
    if not run.cross_account or run.action in _CROSS_ACCOUNT_ACTIONS:
        return None
    return run.decide(IMPLICIT_DENY, "key-policy", (),
                      f"{run.request.action} cannot be used on a KMS key of another account"
                      f" ({run.inputs.resource_account}): KMS performs only the cryptographic operations,"
                      " CreateGrant, DescribeKey, GetKeyRotationStatus, GetPublicKey, ListGrants, RetireGrant and"
                      f" RevokeGrant across accounts, so no policy can allow {run.who()}")


def _grant_decision(run: Evaluation) -> Decision | None:
    inputs, request = run.inputs, run.request
    if not inputs.grants:
        return None
    context = inputs.encryption_context
    if context is None:
        context = run.context.encryption_context()
    found = matching_grants(inputs.grants, request.principal, request.action, request.resource, context)
    if not found:
        return None
    grants: list[Grant] = [inputs.grants[i] for i in found]
    extra = tuple(StatementRef("grant", g.name, None, i, "Allow") for g, i in zip(grants, found))
    names = ", ".join(g.name or f"#{i}" for g, i in zip(grants, found))
    return run.decide(ALLOWED, "grant", (), f"{request.action} is allowed by KMS grant {names}", extra)


def no_key_policy(run: Evaluation) -> Decision:
    """A KMS key ARN without its key policy: no key-policy statement can allow (fail closed)."""
    refused = not_across_accounts(run)
    if refused is not None:
        return refused
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    return run.decide(IMPLICIT_DENY, "key-policy", (),
                      "no key policy was given for the KMS key: without a key policy that allows it, "
                      f"no IAM policy can allow {run.who()}")


def decide_with_key_policy(run: Evaluation) -> Decision:
    refused = not_across_accounts(run)
    if refused is not None:
        return refused
    cross = run.cross_account
    role: list[Hit] = []
    if not cross:
        allowed, role = allowed_as_named(run, "key-policy")
        if allowed is not None:
            return allowed
    if run.resource and run.identity_ok() and run.limits_ok():
        return allowed_by_identity(run, run.resource, "key-policy" if cross else "identity-policy")
    granted = _grant_decision(run)
    if granted is not None:
        return granted
    if not run.resource:
        extra = " and no grant allows it" if run.inputs.grants else ""
        return run.decide(IMPLICIT_DENY, "key-policy", (),
                          f"no statement in the key policy allows {run.who()}{extra}")
    if role:
        return role_limited(run, role)
    if not run.identity_ok():
        return run.decide(IMPLICIT_DENY, "identity-policy", (),
                          f"{run.grants(run.resource)}, but no IAM policy allows {run.who()}")
    limited = limit_denial(run)
    assert limited is not None
    return limited
