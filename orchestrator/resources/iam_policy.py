"""Customer managed IAM policies (`policies:` in a scenario, attached as `policy:NAME`).

IAM API Reference: CreatePolicy, CreatePolicyVersion (SetAsDefault; at most five versions, so
the oldest non-default one is deleted first), GetPolicyVersion, DeletePolicy. A policy's
description cannot change in place. Ownership: the path `/orchestrate/SCENARIO/` and tags.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import unquote

from orchestrator.model.scenario import DesiredState
from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.resources.base import Observed, error_code, tag_dict, tag_list
from orchestrator.resources.context import RunContext

MAX_VERSIONS = 5


class IamPolicy:
    kind: ClassVar[str] = "iam_policy"
    section: ClassVar[str] = "policies"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
        "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:ListPolicyTags",
        "iam:ListEntitiesForPolicy", "iam:ListPolicies", "iam:DetachUserPolicy", "iam:DetachGroupPolicy",
        "iam:DetachRolePolicy", "iam:TagPolicy",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset({"description"})
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.policies)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        policy = desired.policies[name]
        document = ctx.resolve_policy(policy.document.model_dump(mode="json", by_alias=True, exclude_none=True))
        return {"description": policy.description, "document": normalise_policy(document)}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        iam = ctx.backend.client("iam")
        arn = ctx.arn(f"policy:{name}")
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except Exception as error:
            if error_code(error) == "NoSuchEntity":
                return self._elsewhere(ctx, name)
            raise
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        document = version["Document"]
        tags = tag_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags"))
        properties = {
            "description": policy.get("Description", ""),
            "document": normalise_policy(unquote(document) if isinstance(document, str) else document),
        }
        owned = ctx.owns(tags) or ctx.adopt
        return Observed(properties, owned=owned, physical_id=arn, adopted=owned and not ctx.owns(tags))

    @staticmethod
    def _elsewhere(ctx: RunContext, name: str) -> Observed | None:
        """Policy names are unique per account whatever the path: one elsewhere is a conflict."""
        wanted = ctx.physical(name).lower()
        for page in ctx.backend.client("iam").get_paginator("list_policies").paginate(Scope="Local"):
            for policy in page["Policies"]:
                if policy["PolicyName"].lower() == wanted:
                    return Observed({"path": policy["Path"]}, owned=False, physical_id=policy["Arn"])
        return None

    def claim(self, ctx: RunContext, name: str) -> None:
        ctx.backend.client("iam").tag_policy(PolicyArn=ctx.arn(f"policy:{name}"), Tags=tag_list(ctx.ownership_tags(name)))

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        ctx.backend.client("iam").create_policy(
            PolicyName=ctx.physical(name),
            Path=ctx.iam_path(),
            PolicyDocument=policy_json(after["document"]),
            Description=after["description"],
            Tags=tag_list(ctx.ownership_tags(name)),
        )

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        arn = ctx.arn(f"policy:{name}")
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        if len(versions) >= MAX_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json(after["document"]), SetAsDefault=True)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """Detached from every user and group first, then old versions, then the policy."""
        iam = ctx.backend.client("iam")
        arn = ctx.arn(f"policy:{name}")
        for entities in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
            for user in entities.get("PolicyUsers", []):
                iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
            for group in entities.get("PolicyGroups", []):
                iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
            for role in entities.get("PolicyRoles", []):
                iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)
