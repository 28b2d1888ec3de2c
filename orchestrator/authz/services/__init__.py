"""Service knowledge: the authorizations an AWS API call needs.

Each service module turns ``(operation, params)`` into a :class:`CallPlan`: an
ordered list of :class:`Authorization` steps, each an IAM action on a resource
with its condition context, the resource-based policy that applies (a KMS key
policy or a bucket/table policy), and the KMS key whose state the step needs.
The IAM Service Authorization Reference ("Actions, resources, and condition
keys for <service>") names the actions, resources and keys used here.

Parameters use the API's own member names (``TableName``, ``KeyId``,
``Bucket``...), exactly as botocore receives them and as JSON-protocol bodies
carry them; the WSGI adapter maps S3 REST requests onto the same names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..world import KeyInfo, PolicyDoc, World

__all__ = [
    "Authorization",
    "CallPlan",
    "PlanContext",
    "Denial",
    "plan_call",
    "caller_context",
    "kms_key_context",
]

#: A request context's keys and their values, as an authorization asks for them.
ContextKeys = Mapping[str, tuple[str, ...]]


class Denial:
    """How a denied step is worded (see :mod:`orchestrator.authz.gate.errors`)."""

    JSON = "json"                      # IAM wording, AccessDeniedException, HTTP 400
    QUERY = "query"                    # IAM wording, AccessDenied, HTTP 403
    KMS = "kms"                        # KMS wording on the key ARN
    KMS_CIPHERTEXT = "kms-ciphertext"  # KMS wording for a key found from a ciphertext
    S3 = "s3"                          # S3 403 with quoted resource
    S3_KMS = "s3-kms"                  # S3 403 carrying KMS's message
    DYNAMODB_KMS = "dynamodb-kms"      # DynamoDB's "KMS key access denied error"
    STS_ASSUME_ROLE = "sts-assume-role"  # STS's AssumeRole denial, which names no policy type


@dataclass(frozen=True)
class Authorization:
    """One authorization the call needs, and how to report its failure."""

    action: str
    resource: str
    context: ContextKeys = field(default_factory=dict)
    resource_policy: PolicyDoc | None = None
    resource_account: str | None = None
    key: KeyInfo | None = None
    encryption_context: Mapping[str, str] | None = None
    denial: str = Denial.JSON
    blocked_states: tuple[str, ...] = ()
    #: S3 RestrictPublicBuckets in force for the resource (engine PolicyInputs.restrict_public)
    restrict_public: bool = False


@dataclass(frozen=True)
class CallPlan:
    """Everything one API call must pass, in the order AWS checks it."""

    service: str
    operation: str
    steps: tuple[Authorization, ...] = ()
    unauthenticated_ok: bool = False


@dataclass(frozen=True)
class PlanContext:
    """Where the call runs: moto state, region, serving account, caller's account."""

    world: World
    region: str
    account: str
    caller_account: str


Planner = Callable[[str, Mapping[str, Any], PlanContext], CallPlan]

CRYPTO_STATES = ("Disabled", "PendingDeletion", "PendingImport", "Unavailable")


def caller_context(ctx: PlanContext) -> dict[str, tuple[str, ...]]:
    """``kms:CallerAccount`` (AWS KMS Developer Guide, "kms:CallerAccount")."""
    return {"kms:CallerAccount": (ctx.caller_account,)}


def kms_key_context(key: KeyInfo) -> dict[str, tuple[str, ...]]:
    """Key-derived KMS condition keys and ``aws:ResourceTag/*`` (AWS KMS "Condition keys")."""
    found: dict[str, tuple[str, ...]] = {
        "kms:KeySpec": (key.key_spec,),
        "kms:KeyUsage": (key.key_usage,),
        "kms:KeyOrigin": (key.origin,),
        "kms:MultiRegion": ("true" if key.multi_region else "false",),
    }
    if key.aliases:
        found["kms:ResourceAliases"] = key.aliases
    for tag, value in key.tags.items():
        found[f"aws:ResourceTag/{tag}"] = (value,)
    return found


def encryption_context_keys(pairs: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    """``kms:EncryptionContext:<k>`` and ``kms:EncryptionContextKeys`` for a context."""
    if not pairs:
        return {}
    found: dict[str, tuple[str, ...]] = {f"kms:EncryptionContext:{k}": (str(v),) for k, v in pairs.items()}
    found["kms:EncryptionContextKeys"] = tuple(pairs)
    return found


def key_policy(key: KeyInfo) -> PolicyDoc:
    """The key policy of ``key`` as the resource-based policy of a KMS step."""
    return PolicyDoc("key", f"key policy {key.arn}", key.policy)


def _planners() -> dict[str, Planner]:
    from . import dynamodb, generic, kms, s3

    return {"dynamodb": dynamodb.plan, "kms": kms.plan, "s3": s3.plan,
            "sts": generic.plan_sts, "iam": generic.plan_iam, "s3control": generic.plan_s3control}


def plan_call(service: str, operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """The plan for one call; services without specific knowledge get the generic plan."""
    from . import generic

    planner = _planners().get(service)
    if planner is None:
        return generic.plan(service, operation, params, ctx)
    return planner(operation, params, ctx)
