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

from . import Authorization, CallPlan, Denial, PlanContext

__all__ = ["plan", "plan_iam", "plan_sts"]

_IAM_ARN_PARAMS = (("UserName", "user"), ("GroupName", "group"), ("RoleName", "role"))


def plan(service: str, operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """``<service>:<Operation>`` on ``*``, worded as a JSON-protocol denial."""
    step = Authorization(action=f"{service}:{operation}", resource="*", denial=Denial.JSON)
    return CallPlan(service, operation, (step,))


def _iam_resource(params: Mapping[str, Any], ctx: PlanContext) -> str:
    if params.get("PolicyArn"):
        return str(params["PolicyArn"])
    for param, kind in _IAM_ARN_PARAMS:
        if params.get(param):
            return f"arn:aws:iam::{ctx.account}:{kind}/{params[param]}"
    return "*"


def plan_iam(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """IAM: the action on the user/group/role/policy it names, else ``*``."""
    step = Authorization(action=f"iam:{operation}", resource=_iam_resource(params, ctx),
                         denial=Denial.QUERY)
    return CallPlan("iam", operation, (step,))


def plan_sts(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """STS: GetCallerIdentity is free; AssumeRole targets the role ARN."""
    if operation == "GetCallerIdentity":
        return CallPlan("sts", operation, unauthenticated_ok=True)
    resource = str(params.get("RoleArn") or "*")
    step = Authorization(action=f"sts:{operation}", resource=resource, denial=Denial.QUERY)
    return CallPlan("sts", operation, (step,))
