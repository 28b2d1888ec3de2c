"""Services the gate has no specific knowledge of: ``<prefix>:<Operation>``.

IAM and STS are answered with IAM's query-protocol wording (IAM User Guide,
"Troubleshoot access denied error messages").  ``sts:GetCallerIdentity`` needs
no permission ("GetCallerIdentity": "No permissions are required to perform
this operation").  IAM actions on users, groups, roles and policies are checked
against their ARNs (Service Authorization Reference, "Actions, resources, and
condition keys for AWS Identity and Access Management"); everything else is
checked against ``*`` (see docs/embedded-departures.md).
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator import arns

from ..world import PolicyDoc
from . import Authorization, CallPlan, Denial, PlanContext

__all__ = ["plan", "plan_iam", "plan_s3control", "plan_sts", "S3CONTROL_ACTIONS"]

#: S3 Control's account-level Block Public Access operations and the IAM action each needs
#: (Service Authorization Reference, "Actions, resources, and condition keys for Amazon S3":
#: DeletePublicAccessBlock is authorized as s3:PutAccountPublicAccessBlock).
S3CONTROL_ACTIONS = {
    "GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutAccountPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutAccountPublicAccessBlock",
}

_IAM_ARN_PARAMS = (("UserName", "user"), ("GroupName", "group"), ("RoleName", "role"))


def plan(service: str, operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """``<service>:<Operation>`` on ``*``, worded as a JSON-protocol denial."""
    step = Authorization(action=f"{service}:{operation}", resource="*", denial=Denial.JSON)
    return CallPlan(service, operation, (step,))


def plan_s3control(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """S3 Control: the s3 action of the operation (S3CONTROL_ACTIONS, else s3:<Operation>) on ``*``."""
    action = S3CONTROL_ACTIONS.get(operation, f"s3:{operation}")
    return CallPlan("s3control", operation, (Authorization(action=action, resource="*", denial=Denial.JSON),))


def _iam_resource(params: Mapping[str, Any], ctx: PlanContext) -> str:
    if params.get("PolicyArn"):
        return str(params["PolicyArn"])
    for param, kind in _IAM_ARN_PARAMS:
        if params.get(param):
            return arns.iam_arn(ctx.account, f"{kind}/{params[param]}")
    return "*"


def plan_iam(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """IAM: the action on the user/group/role/policy it names, else ``*``."""
    step = Authorization(action=f"iam:{operation}", resource=_iam_resource(params, ctx),
                         denial=Denial.QUERY)
    return CallPlan("iam", operation, (step,))


#: A role that does not exist trusts no one (AWS answers AccessDenied, not NoSuchEntity): a
#: statement that matches no action, since a policy needs at least one statement.
_NO_ROLE_TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "*"}]}'


def plan_sts(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """STS: GetCallerIdentity is free; AssumeRole targets the role ARN, with the role's trust
    policy as its resource-based policy, which must allow (IAM User Guide, "How AWS enforcement
    code logic evaluates requests to allow or deny access": a role trust policy must allow
    explicitly, even in the same account; see evaluate._trust)."""
    if operation == "GetCallerIdentity":
        return CallPlan("sts", operation, unauthenticated_ok=True)
    resource = str(params.get("RoleArn") or "*")
    if operation != "AssumeRole":
        return CallPlan("sts", operation, (Authorization(action=f"sts:{operation}", resource=resource,
                                                         denial=Denial.QUERY),))
    finder = getattr(ctx.world, "role", None)
    role = finder(resource) if finder is not None else None
    trust = (PolicyDoc("trust", f"trust policy {role.arn}", role.trust_policy) if role is not None
             else PolicyDoc("trust", f"trust policy {resource} (no such role)", _NO_ROLE_TRUST))
    owner = arns.account_of(resource, ctx.account)
    keys = assume_role_keys(params)
    steps = tuple(Authorization(action=action, resource=resource, resource_policy=trust,
                                resource_account=owner or ctx.account, context=keys, denial=Denial.STS_ASSUME_ROLE)
                  for action in assume_role_actions(params))
    return CallPlan("sts", operation, steps)


def assume_role_actions(params: Mapping[str, Any]) -> tuple[str, ...]:
    """What the trust policy must allow: sts:AssumeRole; sts:TagSession when session tags are
    passed (IAM User Guide, "Passing session tags in AWS STS": "the role trust policy must
    allow the sts:TagSession action"); sts:SetSourceIdentity when a source identity is ("Monitor
    and control actions taken with assumed roles": "sts:SetSourceIdentity permission")."""
    actions = ["sts:AssumeRole"]
    if params.get("Tags") or params.get("TransitiveTagKeys"):
        actions.append("sts:TagSession")
    if params.get("SourceIdentity"):
        actions.append("sts:SetSourceIdentity")
    return tuple(actions)


def assume_role_keys(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """AssumeRole's condition keys (IAM User Guide, "Available keys for AWS STS" and "Passing
    session tags in AWS STS"): sts:RoleSessionName, sts:ExternalId, sts:SourceIdentity (the one
    requested; aws:SourceIdentity is the caller's own, a principal key), aws:RequestTag/KEY,
    aws:TagKeys and sts:TransitiveTagKeys. Absent when the request does not give them."""
    keys: dict[str, tuple[str, ...]] = {}
    for param, key in (("RoleSessionName", "sts:RoleSessionName"), ("ExternalId", "sts:ExternalId"),
                       ("SourceIdentity", "sts:SourceIdentity")):
        if params.get(param):
            keys[key] = (str(params[param]),)
    tags = [(str(tag.get("Key")), str(tag.get("Value", ""))) for tag in params.get("Tags") or []]
    for key, value in tags:
        keys[f"aws:RequestTag/{key}"] = (value,)
    if tags:
        keys["aws:TagKeys"] = tuple(key for key, _ in tags)
    if params.get("TransitiveTagKeys"):
        keys["sts:TransitiveTagKeys"] = tuple(str(key) for key in params["TransitiveTagKeys"])
    return keys
