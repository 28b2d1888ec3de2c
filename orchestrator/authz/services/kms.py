"""AWS KMS: every operation is ``kms:<Operation>`` on the key it names.

Follows the AWS KMS Developer Guide: "AWS KMS permissions" (permissions
reference: action and resource per operation), "Condition keys for AWS KMS"
(``kms:CallerAccount``, ``kms:EncryptionContext:*``, ``kms:EncryptionContextKeys``,
``kms:EncryptionAlgorithm``, ``kms:GrantOperations``, ``kms:GranteePrincipal``,
``kms:RetiringPrincipal``, ``kms:GrantConstraintType``, ``kms:RequestAlias``,
``kms:ResourceAliases``, ``kms:KeySpec``, ``kms:KeyUsage``, ``kms:SigningAlgorithm``,
``kms:MessageType``, ``kms:MacAlgorithm``...), "Key spec reference" (which usage serves which
operation: ``usage_refusal``), and "Key states of AWS KMS keys"
(which operations a Disabled / PendingDeletion key refuses).

Decrypt (and ReEncrypt's source) finds its key in the ciphertext; moto's
ciphertext starts with the 36-character key id (moto ``kms/utils.py``).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from orchestrator import arns

from ..world import KeyInfo
from . import (
    CRYPTO_STATES,
    Authorization,
    CallPlan,
    Denial,
    PlanContext,
    caller_context,
    encryption_context_keys,
    key_policy,
    kms_key_context,
)

__all__ = ["plan", "kms_step"]

STAR_OPERATIONS = frozenset({
    "CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants",
    "CreateCustomKeyStore", "DescribeCustomKeyStores", "ConnectCustomKeyStore",
    "DisconnectCustomKeyStore", "DeleteCustomKeyStore", "UpdateCustomKeyStore",
})
CRYPTO_OPERATIONS = frozenset({
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify",
    "GenerateMac", "VerifyMac", "GetPublicKey", "DeriveSharedSecret",
})
PENDING_DELETION_REFUSED = frozenset({
    "EnableKey", "DisableKey", "CreateGrant", "EnableKeyRotation", "DisableKeyRotation",
    "ScheduleKeyDeletion", "CreateAlias", "UpdateAlias", "RotateKeyOnDemand",
    "TagResource", "UntagResource", "UpdateKeyDescription",
})
NOT_PENDING_DELETION = ("Enabled", "Disabled", "PendingImport", "Unavailable", "Creating", "Updating")
DISABLED_REFUSED = frozenset({"EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"})
ALGORITHM_OPERATIONS = frozenset({"Encrypt", "Decrypt", "ReEncrypt"})
SIGNING_OPERATIONS = frozenset({"Sign", "Verify"})
MAC_OPERATIONS = frozenset({"GenerateMac", "VerifyMac"})
#: The key usage each cryptographic operation needs (KMS API Reference, each operation's KeyId:
#: "must have a KeyUsage value of ..."); a key of another usage answers InvalidKeyUsageException.
USAGE_OF_OPERATION: dict[str, str] = {
    "Encrypt": "ENCRYPT_DECRYPT", "Decrypt": "ENCRYPT_DECRYPT", "ReEncryptFrom": "ENCRYPT_DECRYPT",
    "ReEncryptTo": "ENCRYPT_DECRYPT", "GenerateDataKey": "ENCRYPT_DECRYPT",
    "GenerateDataKeyWithoutPlaintext": "ENCRYPT_DECRYPT", "Sign": "SIGN_VERIFY", "Verify": "SIGN_VERIFY",
    "GenerateMac": "GENERATE_VERIFY_MAC", "VerifyMac": "GENERATE_VERIFY_MAC",
    "DeriveSharedSecret": "KEY_AGREEMENT",
}
#: Operations only a symmetric encryption key supports (KMS API Reference, "GenerateDataKey": "a
#: symmetric encryption KMS key"), and those only an asymmetric key supports ("GetPublicKey").
SYMMETRIC_ONLY = frozenset({"GenerateDataKey", "GenerateDataKeyWithoutPlaintext"})


def blocked_states(operation: str) -> tuple[str, ...]:
    """Key states in which ``operation`` fails (AWS KMS "Key states of AWS KMS keys")."""
    if operation in CRYPTO_OPERATIONS:
        return CRYPTO_STATES
    if operation in DISABLED_REFUSED:
        return ("Disabled", "PendingDeletion")
    if operation in PENDING_DELETION_REFUSED:
        return ("PendingDeletion",)
    if operation == "CancelKeyDeletion":  # only a key pending deletion can be cancelled
        return NOT_PENDING_DELETION
    return ()


def _grant_context(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    if params.get("Operations"):
        found["kms:GrantOperations"] = tuple(params["Operations"])
    for param, key in (("GranteePrincipal", "kms:GranteePrincipal"),
                       ("RetiringPrincipal", "kms:RetiringPrincipal")):
        if params.get(param):
            found[key] = (str(params[param]),)
    constraints = params.get("Constraints") or {}
    if constraints:
        found["kms:GrantConstraintType"] = tuple(constraints)
    return found


def request_context(operation: str, params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Condition keys that come from the request parameters."""
    found = encryption_context_keys(params.get("EncryptionContext"))
    if operation in ALGORITHM_OPERATIONS:
        found["kms:EncryptionAlgorithm"] = (str(params.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")),)
    if operation in SIGNING_OPERATIONS:
        # "Condition keys for AWS KMS": kms:SigningAlgorithm, kms:MessageType (RAW unless DIGEST)
        found["kms:SigningAlgorithm"] = (str(params.get("SigningAlgorithm", "")),)
        found["kms:MessageType"] = (str(params.get("MessageType") or "RAW"),)
    if operation in MAC_OPERATIONS:
        found["kms:MacAlgorithm"] = (str(params.get("MacAlgorithm", "")),)
    if operation == "CreateGrant":
        found.update(_grant_context(params))
    if operation == "CreateKey":
        found["kms:KeySpec"] = (str(params.get("KeySpec", "SYMMETRIC_DEFAULT")),)
        found["kms:KeyUsage"] = (str(params.get("KeyUsage", "ENCRYPT_DECRYPT")),)
        found["kms:KeyOrigin"] = (str(params.get("Origin", "AWS_KMS")),)
    key_id = str(params.get("KeyId") or "")
    if "alias/" in key_id:
        found["kms:RequestAlias"] = ("alias/" + key_id.split("alias/", 1)[1],)
    return found


def usage_refusal(operation: str, key: KeyInfo) -> str | None:
    """The error code AWS answers when ``key``'s usage or spec cannot serve ``operation``
    (checked once the key's state allows it): InvalidKeyUsageException for a key of another
    usage (or an asymmetric key's GenerateDataKey), UnsupportedOperationException for the public
    key of a symmetric or HMAC key (KMS API Reference, "Sign", "GenerateMac", "GetPublicKey")."""
    if operation == "GetPublicKey":
        symmetric = key.key_spec == "SYMMETRIC_DEFAULT" or key.key_spec.startswith("HMAC_")
        return "UnsupportedOperationException" if symmetric else None
    if operation in SYMMETRIC_ONLY and key.key_spec != "SYMMETRIC_DEFAULT":
        return "InvalidKeyUsageException"
    needed = USAGE_OF_OPERATION.get(operation)
    return "InvalidKeyUsageException" if needed is not None and key.key_usage != needed else None


def kms_step(action: str, key: KeyInfo, context: Mapping[str, tuple[str, ...]],
             encryption_context: Mapping[str, str] | None, denial: str,
             blocked: tuple[str, ...]) -> Authorization:
    """A ``kms:*`` authorization on ``key``: key policy, grants and key state included."""
    merged = dict(kms_key_context(key))
    merged.update(context)
    return Authorization(
        action=action, resource=key.arn, context=merged, resource_policy=key_policy(key),
        resource_account=key.account, key=key, encryption_context=dict(encryption_context or {}),
        denial=denial, blocked_states=blocked,
    )


def _star(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    context = caller_context(ctx)
    context.update(request_context(operation, params))
    step = Authorization(action=f"kms:{operation}", resource="*", context=context, denial=Denial.KMS)
    return CallPlan("kms", operation, (step,))


def _decrypt_key(params: Mapping[str, Any], ctx: PlanContext, blob_param: str,
                 id_param: str) -> KeyInfo | None:
    key = ctx.world.kms_key_from_ciphertext(params.get(blob_param), ctx.region, ctx.account)
    return key or ctx.world.kms_key(params.get(id_param), ctx.region, ctx.account)


def _unknown_key_step(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> Authorization:
    """A call on a key the world does not find (a made-up id, no KeyId at all, a key gone, an
    operation KMS does not have): no key policy can be read, so the caller's IAM policies alone
    decide, on ``*``. A caller with no KMS rights is refused, whatever moto would have made of
    the call; orchestrate's own identity and any caller IAM allows hear moto's answer
    (NotFoundException, or its validation error). The key ARN is not the resource: a key ARN
    with no key policy fails closed (services/rules.py), which would refuse NotFoundException
    to orchestrate itself while it reads a key that is gone."""
    context = caller_context(ctx)
    context.update(request_context(operation, params))
    return Authorization(action=f"kms:{operation}", resource="*", context=context, denial=Denial.KMS)


def _one_key(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    by_ciphertext = operation == "Decrypt"
    if by_ciphertext:
        key = _decrypt_key(params, ctx, "CiphertextBlob", "KeyId")
    else:
        key = ctx.world.kms_key(params.get("KeyId") or params.get("TargetKeyId"), ctx.region, ctx.account)
    if key is None:
        return CallPlan("kms", operation, (_unknown_key_step(operation, params, ctx),))
    context = caller_context(ctx)
    context.update(request_context(operation, params))
    denial = Denial.KMS_CIPHERTEXT if by_ciphertext else Denial.KMS
    step = kms_step(f"kms:{operation}", key, context, params.get("EncryptionContext"),
                    denial, blocked_states(operation))
    return CallPlan("kms", operation, (step,))


def _re_encrypt(params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    source = _decrypt_key(params, ctx, "CiphertextBlob", "SourceKeyId")
    target = ctx.world.kms_key(params.get("DestinationKeyId"), ctx.region, ctx.account)
    steps = []
    if source is not None:
        context = caller_context(ctx)
        context.update(encryption_context_keys(params.get("SourceEncryptionContext")))
        steps.append(kms_step("kms:ReEncryptFrom", source, context, params.get("SourceEncryptionContext"),
                              Denial.KMS_CIPHERTEXT, CRYPTO_STATES))
    if target is not None:
        context = caller_context(ctx)
        context.update(encryption_context_keys(params.get("DestinationEncryptionContext")))
        steps.append(kms_step("kms:ReEncryptTo", target, context,
                              params.get("DestinationEncryptionContext"), Denial.KMS, CRYPTO_STATES))
    return CallPlan("kms", "ReEncrypt", tuple(steps))


def _alias_arn(ctx: PlanContext, alias: str) -> str:
    if arns.is_arn(alias):
        return alias
    return arns.alias_arn(ctx.region, ctx.account, alias)


def _alias(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """Create/Update/DeleteAlias need the action on the alias and on the key(s)."""
    alias = str(params.get("AliasName", ""))
    context = caller_context(ctx)
    steps = [Authorization(action=f"kms:{operation}", resource=_alias_arn(ctx, alias),
                           context=context, denial=Denial.KMS)]
    refs = [params.get("TargetKeyId")] if operation != "DeleteAlias" else [alias]
    if operation == "UpdateAlias":
        refs.append(alias)
    for ref in refs:
        key = ctx.world.kms_key(ref, ctx.region, ctx.account)
        if key is not None:
            steps.append(kms_step(f"kms:{operation}", key, context, None, Denial.KMS,
                                  blocked_states(operation)))
    return CallPlan("kms", operation, tuple(steps))


def _retire_grant(params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """RetireGrant names its grant by GrantToken, or by KeyId and GrantId (KMS API Reference,
    "RetireGrant"). The grant decides (services/kms_retire_grant.py): the step carries that one
    grant and no key policy ("The kms:RetireGrant permission is not effective in a key policy",
    KMS Developer Guide, "Retiring and revoking grants"). A grant the world does not hold is
    left to the backend (NotFoundException)."""
    found = None
    token = params.get("GrantToken")
    by_token = getattr(ctx.world, "kms_grant_by_token", None)
    if token and by_token is not None:
        found = by_token(str(token), ctx.region, ctx.account)
    if found is None and params.get("KeyId"):
        key = ctx.world.kms_key(params.get("KeyId"), ctx.region, ctx.account)
        grant = None if key is None else next((g for g in key.grants if g.grant_id == params.get("GrantId")), None)
        found = None if grant is None else (key, grant)
    if found is None:
        return CallPlan("kms", "RetireGrant")
    key, grant = found
    context = dict(kms_key_context(key))
    context.update(caller_context(ctx))
    step = Authorization(action="kms:RetireGrant", resource=key.arn, context=context, resource_policy=None,
                         resource_account=key.account, key=replace(key, grants=(grant,)), denial=Denial.KMS,
                         blocked_states=blocked_states("RetireGrant"))
    return CallPlan("kms", "RetireGrant", (step,))


def plan(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """The KMS authorizations of one call."""
    if operation == "RetireGrant":
        return _retire_grant(params, ctx)
    if operation in STAR_OPERATIONS:
        return _star(operation, params, ctx)
    if operation == "ReEncrypt":
        return _re_encrypt(params, ctx)
    if operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        return _alias(operation, params, ctx)
    return _one_key(operation, params, ctx)
