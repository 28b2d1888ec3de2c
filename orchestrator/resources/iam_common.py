"""What IAM users, groups and roles share: inline policies and attached managed policies.

IAM API Reference: Put/Get/Delete/List{User,Group,Role}Policy and
Attach/Detach/ListAttached{User,Group,Role}Policies take the same shapes for all three.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from orchestrator.model.policy import IdentityPolicyDocument
from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.resources.context import RunContext


def desired_inline(ctx: RunContext, policies: dict[str, IdentityPolicyDocument]) -> dict[str, Any]:
    return {
        name: normalise_policy(ctx.resolve_policy(document.model_dump(mode="json", by_alias=True, exclude_none=True)))
        for name, document in sorted(policies.items())
    }


def read_inline(iam: Any, kind: str, name: str) -> dict[str, Any]:
    """kind is 'User', 'Group' or 'Role'."""
    field = f"{kind}Name"
    names: list[str] = []
    for page in iam.get_paginator(f"list_{kind.lower()}_policies").paginate(**{field: name}):
        names += page["PolicyNames"]
    result = {}
    for policy_name in sorted(names):
        document = getattr(iam, f"get_{kind.lower()}_policy")(**{field: name, "PolicyName": policy_name})["PolicyDocument"]
        result[policy_name] = normalise_policy(unquote(document) if isinstance(document, str) else document)
    return result


def read_attached(iam: Any, kind: str, name: str) -> list[str]:
    arns: list[str] = []
    for page in iam.get_paginator(f"list_attached_{kind.lower()}_policies").paginate(**{f"{kind}Name": name}):
        arns += [policy["PolicyArn"] for policy in page["AttachedPolicies"]]
    return sorted(arns)


def converge_inline(iam: Any, kind: str, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    field = f"{kind}Name"
    for policy_name in sorted(set(before) - set(after)):
        getattr(iam, f"delete_{kind.lower()}_policy")(**{field: name, "PolicyName": policy_name})
    for policy_name, document in sorted(after.items()):
        if before.get(policy_name) != document:
            getattr(iam, f"put_{kind.lower()}_policy")(**{field: name, "PolicyName": policy_name, "PolicyDocument": policy_json(document)})


def converge_attached(iam: Any, kind: str, name: str, before: list[str], after: list[str]) -> None:
    field = f"{kind}Name"
    for arn in sorted(set(before) - set(after)):
        getattr(iam, f"detach_{kind.lower()}_policy")(**{field: name, "PolicyArn": arn})
    for arn in sorted(set(after) - set(before)):
        getattr(iam, f"attach_{kind.lower()}_policy")(**{field: name, "PolicyArn": arn})
