"""AWS's key policy lockout safety check, applied before a key policy is sent.

KMS Developer Guide, "Default key policy" and PutKeyPolicy's BypassPolicyLockoutSafetyCheck: a
key policy that does not let the caller update it again makes the key unmanageable. By default
(`lockout: guard`) the orchestrator adds one statement, Sid `OrchestrateKeyManagement`, that
lets its own identity manage the key (and encrypt probes for kms:Decrypt expectations, never decrypt), then checks with the engine that it still may
call kms:PutKeyPolicy. `lockout: allow` sends the policy as written, bypassing the check.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.resources.context import Context

MANAGEMENT_SID = "OrchestrateKeyManagement"
MANAGEMENT_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_STS_USER = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):user/(.+)$")


class LockoutError(Exception):
    """The key policy would keep the orchestrator from ever updating it again."""


def principal_arn(caller_arn: str) -> str:
    """The ARN a key policy can name for the caller (an assumed role becomes its role)."""
    if match := _ASSUMED_ROLE.match(caller_arn):
        return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}"
    if match := _STS_USER.match(caller_arn):
        return f"arn:{match[1]}:iam::{match[2]}:user/{match[3]}"
    return caller_arn


def management_statement(caller: str) -> dict[str, Any]:
    return {"Sid": MANAGEMENT_SID, "Effect": "Allow", "Principal": {"AWS": caller}, "Action": MANAGEMENT_ACTIONS, "Resource": "*"}


def guard_policy(ctx: Context, name: str, policy: dict[str, Any], mode: str) -> dict[str, Any]:
    """The policy to send: with the management statement, and checked, unless mode is 'allow'."""
    if mode == "allow":
        return policy
    caller = principal_arn(ctx.backend.identity()["Arn"])
    statements = policy.get("Statement", [])
    statements = list(statements) if isinstance(statements, list) else [statements]
    if not any(isinstance(s, dict) and s.get("Sid") == MANAGEMENT_SID for s in statements):
        statements.append(management_statement(caller))
    guarded = {**policy, "Statement": statements}
    check_lockout(ctx, name, guarded, caller)
    return guarded


def check_lockout(ctx: Context, name: str, policy: dict[str, Any], caller: str) -> None:
    from orchestrator.authz.evaluate import PolicyInputs, PolicySource, evaluate
    from orchestrator.authz.request import Principal, Request

    account = ctx.account
    request = Request(Principal(caller, account), "kms:PutKeyPolicy", ctx.known.get(f"key:{name}", f"arn:aws:kms:{ctx.region}:{account}:key/new"))
    # The caller's IAM policies are not ours to read; assume they allow, as an administrator's do.
    admin = PolicySource("identity", "orchestrator (assumed administrator)", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    decision = evaluate(request, PolicyInputs(identity=(admin,), resource_policy=PolicySource("key", f"key policy of {name}", policy)))
    if not decision.allowed:
        raise LockoutError(
            f"keys.{name}.policy would lock the orchestrator ({caller}) out of the key: {decision.reason}."
            " Fix the policy, or set `lockout: allow` on the key to send it anyway"
        )
