"""AWS's key policy lockout safety check, applied before a key policy is sent.

KMS Developer Guide, "Default key policy" and PutKeyPolicy's BypassPolicyLockoutSafetyCheck: a
key policy that does not let the caller update it again makes the key unmanageable. By default
(`lockout: guard`) the orchestrator adds one statement, Sid `OrchestrateKeyManagement`, that
names its own identity for exactly the key actions orchestrate itself calls on real AWS
(`GUARD_ACTIONS`, each with its reason), then checks with the engine that it still may call
kms:PutKeyPolicy. `lockout: allow` sends the policy as written, bypassing the check.

The statement never grants anyone else. Naming an IAM user or a role grants that identity (a
role: its sessions, which are orchestrate's own). Naming an account root
(`arn:aws:iam::ACCOUNT:root`, what GetCallerIdentity answers for root credentials and
LocalStack's default) would delegate the actions to every IAM principal of the account whose
IAM policies allow them (IAM User Guide, "AWS JSON policy elements: Principal", AWS account
principals: "Using the account ARN in the Principal element does not limit permissions to only
the root user of the account"). So for a root identity the statement carries
`ArnEquals aws:PrincipalArn arn:aws:iam::ACCOUNT:root`: the request context holds exactly that
ARN only for the root user ("AWS global condition context keys", aws:PrincipalArn: specifying
the root user ARN "limits permissions only for the root user of the AWS account"), an IAM
user's or role session's ARN never equals it. The statement is kept rather than left out:
without it a scenario key policy that names only some user would be refused by KMS's own
lockout check for a root caller, and orchestrate could not create tables under the key.
"""

from __future__ import annotations

from typing import Any

from orchestrator import arns
from orchestrator.authz.gate.caller import caller_principal, is_root, principal_arn
from orchestrator.errors import BackendFailure
from orchestrator.resources.context import RunContext

__all__ = ["MANAGEMENT_SID", "MANAGEMENT_ACTIONS", "GUARD_ACTIONS", "LockoutError", "principal_arn",
           "management_statement", "guard_policy", "check_lockout"]

MANAGEMENT_SID = "OrchestrateKeyManagement"
#: The template parameter an export names the key manager by (the identity that deploys it): the
#: guard statement's Principal, and what `orchestrate` in a policy becomes (export/, imports/).
KEY_MANAGER_PARAMETER = "KeyManagerArn"
_MANAGE = "orchestrate's key reconciler calls it on the key"
#: Why orchestrate's identity needs each action on the key (AWS KMS Developer Guide, "AWS KMS
#: permissions"; AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS" and the DynamoDB
#: Developer Guide, "Encryption at rest: how it works", "Authorizing use of your KMS key").
#: Actions a key policy cannot grant (kms:CreateKey, kms:ListKeys, kms:ListAliases: IAM policy
#: only) and actions orchestrate never calls (kms:UpdateAlias, kms:ReEncrypt*) are not listed.
GUARD_ACTIONS: dict[str, str] = {
    "kms:CancelKeyDeletion": f"{_MANAGE} (`pending_deletion: false`; destroy of a key that a state scheduled for deletion)",
    "kms:CreateAlias": f"{_MANAGE} (aliases; the key side of CreateAlias)",
    "kms:CreateGrant": "DynamoDB CreateTable/UpdateTable with the key creates grants as the caller; the key's declared grants",
    "kms:Decrypt": "DynamoDB decrypts the table key as the caller to seed items (PutItem) and read them back (BatchGetItem)",
    "kms:DeleteAlias": f"{_MANAGE} (alias removal and destroy; the key side of DeleteAlias)",
    "kms:DescribeKey": f"{_MANAGE} (observe); DynamoDB CreateTable calls it as the caller",
    "kms:DisableKey": f"{_MANAGE} (`enabled: false`)",
    "kms:DisableKeyRotation": f"{_MANAGE} (`rotation: false`)",
    "kms:EnableKey": f"{_MANAGE} (`enabled: true`, rotation changes on a disabled key)",
    "kms:EnableKeyRotation": f"{_MANAGE} (`rotation: true`)",
    "kms:Encrypt": "the probe ciphertext that kms:Decrypt and kms:ReEncrypt expectations decrypt",
    "kms:GenerateDataKey": "DynamoDB generates the table key as the caller when the table is created under the key;"
                           " S3 generates each seed object's data key as the caller under SSE-KMS (PutObject)",
    "kms:GenerateMac": "the MAC a kms:VerifyMac expectation checks (prove/asymmetric_calls.py)",
    "kms:GetPublicKey": "the public key an allowed kms:Sign is verified with offline, and an `offline` kms:Verify uses",
    "kms:Sign": "the signature a kms:Verify expectation, or an `offline` one, checks (prove/asymmetric_calls.py)",
    "kms:GetKeyPolicy": f"{_MANAGE} (observe, drift)",
    "kms:GetKeyRotationStatus": f"{_MANAGE} (observe, drift)",
    "kms:ListGrants": f"{_MANAGE} (the key's grants: observe, drift)",
    "kms:ListResourceTags": f"{_MANAGE} (finds its keys by their ownership tags)",
    "kms:PutKeyPolicy": f"{_MANAGE} (policy changes between states; what the lockout check protects)",
    "kms:RevokeGrant": f"{_MANAGE} (a changed, undeclared or destroyed grant, and the grant an allowed kms:CreateGrant"
                       " expectation made, are revoked; orchestrate administers the key and is not the grants'"
                       " retiring principal, so RetireGrant is not its to call)",
    "kms:ScheduleKeyDeletion": f"{_MANAGE} (`pending_deletion: true`, destroy)",
    "kms:TagResource": f"{_MANAGE} (tags)",
    "kms:UntagResource": f"{_MANAGE} (tags)",
    "kms:UpdateKeyDescription": f"{_MANAGE} (description)",
}
MANAGEMENT_ACTIONS: list[str] = sorted(GUARD_ACTIONS)


class LockoutError(BackendFailure):
    """The key policy would keep the orchestrator from ever updating it again."""


def management_statement(caller: str) -> dict[str, Any]:
    """The guard statement for `caller` (a principal ARN); restricted to the root user itself when
    `caller` is an account root, so that naming it cannot delegate to the account."""
    statement: dict[str, Any] = {"Sid": MANAGEMENT_SID, "Effect": "Allow", "Principal": {"AWS": caller},
                                 "Action": list(MANAGEMENT_ACTIONS), "Resource": "*"}
    if is_root(caller):
        statement["Condition"] = {"ArnEquals": {"aws:PrincipalArn": caller}}
    return statement


def guard_policy(ctx: RunContext, name: str, policy: dict[str, Any], mode: str) -> dict[str, Any]:
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


def check_lockout(ctx: RunContext, name: str, policy: dict[str, Any], caller: str) -> None:
    from orchestrator.authz.decide import PolicyInputs, PolicySource, evaluate
    from orchestrator.authz.engine.request import Request

    account = ctx.account
    resource = ctx.known.get(f"key:{name}", arns.key_arn(ctx.region, account, "new"))
    request = Request(caller_principal(caller, account), "kms:PutKeyPolicy", resource)
    # The caller's IAM policies are not ours to read; assume they allow, as an administrator's do.
    admin = PolicySource("identity", "orchestrator (assumed administrator)", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    decision = evaluate(request, PolicyInputs(identity=(admin,), resource_policy=PolicySource("key", f"key policy of {name}", policy)))
    if not decision.allowed:
        raise LockoutError(
            f"keys.{name}.policy would lock the orchestrator ({caller}) out of the key: {decision.reason}."
            " Fix the policy, or set `lockout: allow` on the key to send it anyway"
        )
