"""IAM roles (the role: path, trust policy, session length, description, tags) and their access
(inline and attached policies, permissions boundary), two resource kinds as for users: roles
exist before key, table and bucket policies name them, and their own policies can name keys.

IAM API Reference: CreateRole (Path, AssumeRolePolicyDocument, MaxSessionDuration, Description,
Tags), GetRole, UpdateAssumeRolePolicy, UpdateRole, TagRole/UntagRole/ListRoleTags,
Put/Delete/ListRolePolicies, Attach/Detach/ListAttachedRolePolicies,
Put/DeleteRolePermissionsBoundary, DeleteRole (which fails while policies are attached).
A role's path cannot be changed (UpdateRole has no Path): a changed path replaces the role.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import unquote

from orchestrator.constants import ROLE_SESSION_SECONDS
from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, retag, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.iam_common import PrincipalAccess, access_permissions, read_principal


def _trust(document: Any) -> dict[str, Any]:
    """GetRole returns AssumeRolePolicyDocument URL-encoded on AWS, as a dict in boto3 and moto."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return normalise_policy(document)


class IamRole:
    kind: ClassVar[str] = "iam_role"
    section: ClassVar[str] = "roles"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:CreateRole", "iam:GetRole", "iam:ListRoleTags", "iam:TagRole", "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:DeleteRole",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset({"path"})
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.roles)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        role = desired.roles[name]
        trust = role.trust_policy.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {
            "path": role.path,
            "trust_policy": normalise_policy(ctx.resolve_policy(trust)),
            "max_session_seconds": role.max_session_seconds,
            "description": role.description,
            "tags": dict(role.tags),
        }

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        found = read_principal(ctx, "Role", name)
        if found is None:
            return None
        role, tags = found
        owned = ctx.owns(tags) or ctx.adopt
        properties = {
            "path": role.get("Path", "/"),
            "trust_policy": _trust(role.get("AssumeRolePolicyDocument") or {}),
            "max_session_seconds": int(role.get("MaxSessionDuration", ROLE_SESSION_SECONDS)),
            "description": role.get("Description", ""),
            "tags": user_tags(tags),
        }
        return Observed(properties, owned=owned, physical_id=role["Arn"], adopted=owned and not ctx.owns(tags))

    def claim(self, ctx: RunContext, name: str) -> None:
        ctx.backend.client("iam").tag_role(RoleName=ctx.physical(name), Tags=tag_list(ctx.ownership_tags(name)))

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        tags = {**after["tags"], **ctx.ownership_tags(name)}
        options = {"Description": after["description"]} if after["description"] else {}
        ctx.backend.client("iam").create_role(
            RoleName=ctx.physical(name), Path=after["path"], AssumeRolePolicyDocument=policy_json(after["trust_policy"]),
            MaxSessionDuration=after["max_session_seconds"], Tags=tag_list(tags), **options)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        role = ctx.physical(name)
        if before["trust_policy"] != after["trust_policy"]:
            iam.update_assume_role_policy(RoleName=role, PolicyDocument=policy_json(after["trust_policy"]))
        if (before["max_session_seconds"], before["description"]) != (after["max_session_seconds"], after["description"]):
            iam.update_role(RoleName=role, Description=after["description"], MaxSessionDuration=after["max_session_seconds"])
        retag(before["tags"], after["tags"], lambda keys: iam.untag_role(RoleName=role, TagKeys=keys),
              lambda tags: iam.tag_role(RoleName=role, Tags=tag_list(tags)))

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """Whatever is still attached, then the role."""
        IamRoleAccess().detach_all(ctx, name)
        ctx.backend.client("iam").delete_role(RoleName=ctx.physical(name))


class IamRoleAccess(PrincipalAccess):
    entity: ClassVar[str] = "Role"
    kind: ClassVar[str] = "iam_role_access"
    section: ClassVar[str] = "roles"
    permissions: ClassVar[tuple[str, ...]] = access_permissions("Role")
