"""The calls of key management expectations, what orchestrate prepares for them, and what
undoes an allowed one at once.

KMS Developer Guide, "Default key policy" (the key administrators' actions) and "Key policies in
AWS KMS"; KMS API Reference, "ScheduleKeyDeletion", "CancelKeyDeletion", "PutKeyPolicy",
"GetKeyPolicy", "DisableKey", "EnableKey", "TagResource", "ListGrants", "RevokeGrant".

Each is a real call made by the principal. What changes the key is undone by orchestrate's own
identity (the key's administrator: the lockout guard grants it every action used here) right
after the call and before the next expectation, so the key is left as the state declares it:

* ScheduleKeyDeletion: CancelKeyDeletion, then EnableKey unless the key is declared disabled (a
  cancelled key comes back Disabled, KMS Developer Guide, "Deleting AWS KMS keys").
* CancelKeyDeletion (the loader allows it only on a key the state declares pending deletion):
  ScheduleKeyDeletion again with the key's `deletion_window_days` (its deletion date moves on).
* DisableKey / EnableKey: the enabled flag the state declares.
* PutKeyPolicy: the principal puts the key's current policy (read beforehand with GetKeyPolicy)
  back, with BypassPolicyLockoutSafetyCheck false, so nothing changes; the same text is put
  again by orchestrate all the same.
* TagResource: the principal tags `orchestrate-probe`; orchestrate removes it (or puts back the
  value the key declares for it).
* RevokeGrant: orchestrate creates a throwaway grant (DescribeKey to the principal) beforehand;
  the principal revokes it, and if the call is not allowed orchestrate revokes it.
* RetireGrant (KMS Developer Guide, "Retiring and revoking grants": the grant decides who may
  retire it): the same throwaway grant, naming the principal its RetiringPrincipal unless the
  expectation says `retiring: false`; the principal retires it by KeyId and GrantId, and if the
  call is not allowed orchestrate revokes it. The prediction asks the gate over a world that holds
  that grant (`Management.grant`: the grant is gone by the time the prediction is made).

An undo that AWS refuses is `UndoFailed`: the run's failure, naming what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.arns import key_id_of
from orchestrator.authz.world import GrantInfo
from orchestrator.errors import BackendFailure, ProofError
from orchestrator.model.resources import Key
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.asymmetric_calls import admin_kms
from orchestrator.resources.context import RunContext

#: The tag a kms:TagResource expectation writes (KMS API Reference, "TagResource").
PROBE_TAG = "orchestrate-probe"
#: What an offline request names as the throwaway grant (authorization does not read it).
PLACEHOLDER_GRANT_ID = "0" * 64
#: The one policy name KMS accepts (KMS API Reference, "PutKeyPolicy": PolicyName "default").
POLICY_NAME = "default"


class UndoFailed(BackendFailure):
    """An allowed key management call could not be undone: the run fails, naming what is left."""


class SetupFailed(ProofError):
    """What orchestrate makes before the call (the current policy, a throwaway grant) was refused."""


@dataclass
class Management:
    """A management call's parameters, and what orchestrate does around it (closures sharing
    `prepared`: what the setup made, for the undo and the cleanup)."""

    params: dict[str, Any]
    setup: Callable[[], dict[str, Any]] | None = None
    undo: Callable[[dict[str, Any]], None] | None = None
    cleanup: Callable[[], None] | None = None
    prepared: dict[str, Any] = field(default_factory=dict)
    #: The throwaway grant as the gate would read it (RetireGrant: the grant decides), named
    #: PLACEHOLDER_GRANT_ID as `params` name it; None when authorization does not read it.
    grant: GrantInfo | None = None


def management_call(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> Management:
    """The call of a KEY_MANAGEMENT_ACTIONS expectation on `key:NAME`."""
    operation = expectation.action.partition(":")[2]
    name = expectation.resource.partition(":")[2]
    key, key_arn = desired.keys[name], ctx.arn(f"key:{name}")
    build = _BUILDERS.get(operation, _read_only)
    made = build(ctx, name, key, key_arn, expectation)
    # the key id: none of these operations is cross-account (KMS API Reference, "Cross-account use:
    # No"), and moto resolves a key ARN in some of them only (ScheduleKeyDeletion does not)
    made.params["KeyId"] = key_id(key_arn)
    return made


def key_id(key_arn: str) -> str:
    """The key id of a key ARN (KMS API Reference, KeyId: "Key ID" or "Key ARN")."""
    return key_id_of(key_arn)


def _read_only(_ctx: RunContext, _name: str, _key: Key, key_arn: str, expectation: Expectation) -> Management:
    """GetKeyPolicy and ListGrants change nothing."""
    if expectation.action == "kms:GetKeyPolicy":
        return Management({"KeyId": key_arn, "PolicyName": POLICY_NAME})
    return Management({"KeyId": key_arn})


def _schedule(ctx: RunContext, name: str, key: Key, key_arn: str, _e: Expectation) -> Management:
    def undo(_answer: dict[str, Any]) -> None:
        _admin(ctx, key_arn, f"key:{name} ({key_arn}) is left PendingDeletion, scheduled by the principal's call",
               "cancel_key_deletion", KeyId=key_arn)
        if key.enabled:
            _admin(ctx, key_arn, f"key:{name} ({key_arn}) is left Disabled (its deletion cancelled), declared enabled",
                   "enable_key", KeyId=key_arn)
    return Management({"KeyId": key_arn, "PendingWindowInDays": key.deletion_window_days}, undo=undo)


def _cancel(ctx: RunContext, name: str, key: Key, key_arn: str, _e: Expectation) -> Management:
    def undo(_answer: dict[str, Any]) -> None:
        _admin(ctx, key_arn, f"key:{name} ({key_arn}) is left Disabled, no longer pending deletion, declared pending deletion",
               "schedule_key_deletion", KeyId=key_arn, PendingWindowInDays=key.deletion_window_days)
    return Management({"KeyId": key_arn}, undo=undo)


def _enabled_flag(ctx: RunContext, name: str, key: Key, key_arn: str, expectation: Expectation) -> Management:
    """DisableKey / EnableKey: the flag the state declares is put back (a no-op call changes nothing)."""
    disabling = expectation.action == "kms:DisableKey"

    def undo(_answer: dict[str, Any]) -> None:
        if disabling and key.enabled:
            _admin(ctx, key_arn, f"key:{name} ({key_arn}) is left Disabled, declared enabled", "enable_key", KeyId=key_arn)
        elif not disabling and not key.enabled:
            _admin(ctx, key_arn, f"key:{name} ({key_arn}) is left Enabled, declared disabled", "disable_key", KeyId=key_arn)
    return Management({"KeyId": key_arn}, undo=undo)


def _put_policy(ctx: RunContext, name: str, key: Key, key_arn: str, _e: Expectation) -> Management:
    """The principal puts the current policy back; a placeholder until the setup reads it."""
    made = Management({"KeyId": key_arn, "PolicyName": POLICY_NAME, "Policy": "{}", "BypassPolicyLockoutSafetyCheck": False})

    def setup() -> dict[str, Any]:
        policy = _prepare(ctx, key_arn, "get_key_policy", KeyId=key_arn, PolicyName=POLICY_NAME)["Policy"]
        made.prepared["Policy"] = policy
        return {"Policy": policy}

    def undo(_answer: dict[str, Any]) -> None:
        _admin(ctx, key_arn, f"key:{name} ({key_arn}) may be left with the policy the principal put",
               "put_key_policy", KeyId=key_arn, PolicyName=POLICY_NAME, Policy=made.prepared["Policy"],
               BypassPolicyLockoutSafetyCheck=key.lockout == "allow")
    made.setup, made.undo = setup, undo
    return made


def _tag(ctx: RunContext, name: str, key: Key, key_arn: str, _e: Expectation) -> Management:
    def undo(_answer: dict[str, Any]) -> None:
        left = f"key:{name} ({key_arn}) is left with the tag {PROBE_TAG}"
        if PROBE_TAG in key.tags:
            _admin(ctx, key_arn, left, "tag_resource", KeyId=key_arn,
                   Tags=[{"TagKey": PROBE_TAG, "TagValue": key.tags[PROBE_TAG]}])
        else:
            _admin(ctx, key_arn, left, "untag_resource", KeyId=key_arn, TagKeys=[PROBE_TAG])
    return Management({"KeyId": key_arn, "Tags": [{"TagKey": PROBE_TAG, "TagValue": PROBE_TAG}]}, undo=undo)


def _revoke(ctx: RunContext, name: str, _key: Key, key_arn: str, expectation: Expectation) -> Management:
    """A throwaway grant of DescribeKey to the principal (KMS API Reference, "CreateGrant"), made
    beforehand; revoked by orchestrate when the principal's RevokeGrant is not allowed."""
    made = Management({"KeyId": key_arn, "GrantId": PLACEHOLDER_GRANT_ID})
    grantee = ctx.arn(expectation.principal) if expectation.role else ctx.arn(f"user:{expectation.principal}")

    def setup() -> dict[str, Any]:
        answer = _prepare(ctx, key_arn, "create_grant", KeyId=key_arn, GranteePrincipal=grantee, Operations=["DescribeKey"])
        made.prepared["GrantId"] = answer["GrantId"]
        return {"GrantId": answer["GrantId"]}

    def cleanup() -> None:
        grant = made.prepared.pop("GrantId", None)
        if grant is not None:
            _admin(ctx, key_arn, f"the throwaway grant {grant} on key:{name} ({key_arn}) is left", "revoke_grant",
                   KeyId=key_arn, GrantId=grant)

    def undo(_answer: dict[str, Any]) -> None:
        made.prepared.pop("GrantId", None)  # the principal revoked it: nothing is left
    made.setup, made.cleanup, made.undo = setup, cleanup, undo
    return made


def _retire(ctx: RunContext, name: str, key: Key, key_arn: str, expectation: Expectation) -> Management:
    """RevokeGrant's throwaway grant, its RetiringPrincipal the principal unless `retiring: false`;
    the principal retires it (KMS API Reference, "RetireGrant": KeyId and GrantId), orchestrate
    revokes it when that is not allowed."""
    made = _revoke(ctx, name, key, key_arn, expectation)
    grantee = ctx.arn(expectation.principal) if expectation.role else ctx.arn(f"user:{expectation.principal}")
    retiring = grantee if expectation.retiring is not False else None
    extra = {} if retiring is None else {"RetiringPrincipal": retiring}

    def setup() -> dict[str, Any]:
        answer = _prepare(ctx, key_arn, "create_grant", KeyId=key_arn, GranteePrincipal=grantee,
                          Operations=["DescribeKey"], **extra)
        made.prepared["GrantId"] = answer["GrantId"]
        return {"GrantId": answer["GrantId"]}
    made.setup = setup
    made.grant = GrantInfo(PLACEHOLDER_GRANT_ID, "", grantee, ("DescribeKey",), key_arn, retiring_principal=retiring)
    return made


_BUILDERS: dict[str, Callable[[RunContext, str, Key, str, Expectation], Management]] = {
    "ScheduleKeyDeletion": _schedule,
    "CancelKeyDeletion": _cancel,
    "DisableKey": _enabled_flag,
    "EnableKey": _enabled_flag,
    "PutKeyPolicy": _put_policy,
    "TagResource": _tag,
    "RevokeGrant": _revoke,
    "RetireGrant": _retire,
}


def _refusal(error: BaseException) -> str | None:
    """AWS's answer refusing a call, as "Code: Message"; None when AWS did not answer."""
    answer = getattr(error, "response", None)
    if not isinstance(answer, dict) or "Error" not in answer:
        return None
    return f"{answer['Error'].get('Code', 'Unknown')}: {answer['Error'].get('Message', '')}"


def _admin(ctx: RunContext, key_arn: str, left: str, method: str, **params: Any) -> dict[str, Any]:
    """One undo call as orchestrate's identity; AWS's refusal is UndoFailed naming what is left."""
    return _as_orchestrate(ctx, key_arn, method, params, lambda operation, refusal: UndoFailed(
        f"orchestrate could not undo an allowed key management call: its {operation} failed with {refusal};"
        f" left: {left}"))


def _prepare(ctx: RunContext, key_arn: str, method: str, **params: Any) -> dict[str, Any]:
    """One call orchestrate makes before the principal's; AWS's refusal is SetupFailed."""
    return _as_orchestrate(ctx, key_arn, method, params, lambda operation, refusal: SetupFailed(
        f"orchestrate's {operation} on {key_arn} failed with {refusal}"))


def _as_orchestrate(ctx: RunContext, key_arn: str, method: str, params: dict[str, Any],
                    failure: Callable[[str, str], Exception]) -> dict[str, Any]:
    """A KMS call as orchestrate's identity on the key (by its id); AWS's refusal is ``failure``
    (operation, "Code: message"), anything else is raised as it is."""
    params["KeyId"] = key_id(key_arn)
    try:
        return dict(getattr(admin_kms(ctx, key_arn), method)(**params))
    except Exception as error:
        refusal = _refusal(error)
        if refusal is None:
            raise
        raise failure("".join(part.title() for part in method.split("_")), refusal) from None
