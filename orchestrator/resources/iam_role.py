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

from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, retag, tag_dict, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.iam_common import converge_attached, converge_inline, desired_inline, read_attached, read_inline


def get_role(ctx: RunContext, name: str) -> dict[str, Any] | None:
    try:
        return ctx.backend.client("iam").get_role(RoleName=ctx.physical(name))["Role"]
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise


def _role_tags(ctx: RunContext, name: str) -> dict[str, str]:
    return tag_dict(ctx.backend.client("iam").list_role_tags(RoleName=ctx.physical(name)).get("Tags"))


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
        role = get_role(ctx, name)
        if role is None:
            return None
        tags = _role_tags(ctx, name)
        ctx.cache[("iam_role", name)] = (role, tags)
        owned = ctx.owns(tags) or ctx.adopt
        properties = {
            "path": role.get("Path", "/"),
            "trust_policy": _trust(role.get("AssumeRolePolicyDocument") or {}),
            "max_session_seconds": int(role.get("MaxSessionDuration", 3600)),
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
        IamRoleAccess().delete(ctx, name, IamRoleAccess().observe(ctx, name), None)
        ctx.backend.client("iam").delete_role(RoleName=ctx.physical(name))


class IamRoleAccess:
    kind: ClassVar[str] = "iam_role_access"
    section: ClassVar[str] = "roles"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "iam:ListAttachedRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.roles)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        role = desired.roles[name]
        boundary = role.permissions_boundary
        return {
            "inline_policies": desired_inline(ctx, role.inline_policies),
            "managed_policies": sorted(ctx.managed_policy_arn(p) for p in role.managed_policies),
            "permissions_boundary": ctx.managed_policy_arn(boundary) if boundary else None,
        }

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        cached = ctx.cache.pop(("iam_role", name), None)
        role, tags = cached if cached is not None else (get_role(ctx, name), None)
        if role is None:
            return None
        owned = ctx.owns(tags if tags is not None else _role_tags(ctx, name)) or ctx.adopt
        return Observed(self.observe(ctx, name, role), owned=owned, physical_id=role["Arn"])

    def observe(self, ctx: RunContext, name: str, role: dict[str, Any] | None = None) -> dict[str, Any]:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        role = role or iam.get_role(RoleName=physical)["Role"]
        return {
            "inline_policies": read_inline(iam, "Role", physical),
            "managed_policies": read_attached(iam, "Role", physical),
            "permissions_boundary": role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
        }

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        self.update(ctx, name, self.empty(), after)

    @staticmethod
    def empty() -> dict[str, Any]:
        return {"inline_policies": {}, "managed_policies": [], "permissions_boundary": None}

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        converge_inline(iam, "Role", physical, before["inline_policies"], after["inline_policies"])
        converge_attached(iam, "Role", physical, before["managed_policies"], after["managed_policies"])
        if before["permissions_boundary"] != after["permissions_boundary"]:
            if after["permissions_boundary"]:
                iam.put_role_permissions_boundary(RoleName=physical, PermissionsBoundary=after["permissions_boundary"])
            else:
                iam.delete_role_permissions_boundary(RoleName=physical)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        if get_role(ctx, name) is not None:
            self.update(ctx, name, before, self.empty())
