"""IAM users (the user and its tags) and their access (inline and attached policies, groups,
permissions boundary), two resource kinds so that key policies can name users that exist while
the users' own policies can name keys that exist: users, then keys, then the users' access.

IAM API Reference: CreateUser, TagUser, PutUserPermissionsBoundary, AddUserToGroup,
DeleteAccessKey, DeleteUser (which fails while anything is still attached).
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.model.scenario import DesiredState
from orchestrator.resources.access_keys import describe, list_keys, unmarked, without_marks
from orchestrator.resources.base import Observed, error_code, retag, tag_dict, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.iam_common import converge_attached, converge_inline, desired_inline, read_attached, read_inline


def _get_user(ctx: RunContext, name: str) -> dict[str, Any] | None:
    try:
        return ctx.backend.client("iam").get_user(UserName=ctx.physical(name))["User"]
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise


def _user_tags(ctx: RunContext, name: str) -> dict[str, str]:
    return tag_dict(ctx.backend.client("iam").list_user_tags(UserName=ctx.physical(name)).get("Tags"))


def _unmarked_keys(ctx: RunContext, name: str, tags: dict[str, str]) -> list[dict[str, str]]:
    """ListAccessKeys, less the keys orchestrate marked as its own (see resources/access_keys)."""
    keys = list_keys(ctx.backend.client("iam"), ctx.physical(name))
    return sorted((describe(key) for key in unmarked(keys, tags)), key=lambda key: key["CreateDate"])


class IamUser:
    kind: ClassVar[str] = "iam_user"
    section: ClassVar[str] = "users"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:CreateUser", "iam:GetUser", "iam:ListUserTags", "iam:TagUser", "iam:UntagUser", "iam:DeleteUser",
        "iam:ListAccessKeys", "iam:DeleteAccessKey",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()
    #: Read by plan and drift, never declared (so never planned): the access keys orchestrate did
    #: not make. Drift expects none, and reports each one as widening access.
    observed_only: ClassVar[frozenset[str]] = frozenset({"access_keys"})

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.users)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        return {"tags": dict(desired.users[name].tags)}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None, *,
             observed_only: bool = False) -> Observed | None:
        """observed_only (plan, drift, access --observed) reads the access keys too; apply has no use
        for them: it never deletes a key it did not make."""
        user = _get_user(ctx, name)
        if user is None:
            return None
        tags = _user_tags(ctx, name)
        # IamUserAccess reads the same user next in this pass; nothing in between changes it
        ctx.cache[("iam_user", name)] = (user, tags)
        owned = ctx.owns(tags) or ctx.adopt
        properties: dict[str, Any] = {"tags": user_tags(without_marks(tags))}
        if observed_only:
            properties["access_keys"] = _unmarked_keys(ctx, name, tags)
        return Observed(properties, owned=owned, physical_id=user["Arn"], adopted=owned and not ctx.owns(tags))

    def claim(self, ctx: RunContext, name: str) -> None:
        """--adopt: mark the user as this scenario's, so later runs own it without --adopt."""
        ctx.backend.client("iam").tag_user(UserName=ctx.physical(name), Tags=tag_list(ctx.ownership_tags(name)))

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        tags = {**after["tags"], **ctx.ownership_tags(name)}
        user = ctx.backend.client("iam").create_user(UserName=ctx.physical(name), Tags=tag_list(tags)).get("User")
        if user:  # as read() does: IamUserAccess reads this user next in the pass, and CreateUser's
            # answer and the tags just set are what its GetUser and ListUserTags would say
            ctx.cache[("iam_user", name)] = (user, tags)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        user = ctx.physical(name)
        retag(before["tags"], after["tags"], lambda keys: iam.untag_user(UserName=user, TagKeys=keys),
              lambda tags: iam.tag_user(UserName=user, Tags=tag_list(tags)))

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """Access keys first, then whatever is still attached, then the user."""
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        for key in iam.list_access_keys(UserName=physical)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=physical, AccessKeyId=key["AccessKeyId"])
        IamUserAccess().delete(ctx, name, IamUserAccess().observe(ctx, name), None)
        iam.delete_user(UserName=physical)


class IamUserAccess:
    kind: ClassVar[str] = "iam_user_access"
    section: ClassVar[str] = "users"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy",
        "iam:ListAttachedUserPolicies", "iam:AttachUserPolicy", "iam:DetachUserPolicy",
        "iam:ListGroupsForUser", "iam:AddUserToGroup", "iam:RemoveUserFromGroup",
        "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.users)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        user = desired.users[name]
        boundary = user.permissions_boundary
        return {
            "inline_policies": desired_inline(ctx, user.inline_policies),
            "managed_policies": sorted(ctx.managed_policy_arn(p) for p in user.managed_policies),
            "groups": sorted(ctx.physical(g) for g in user.groups),
            "permissions_boundary": ctx.managed_policy_arn(boundary) if boundary else None,
        }

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        cached = ctx.cache.pop(("iam_user", name), None)
        user, tags = cached if cached is not None else (_get_user(ctx, name), None)
        if user is None:
            return None
        owned = ctx.owns(tags if tags is not None else _user_tags(ctx, name)) or ctx.adopt
        return Observed(self.observe(ctx, name, user), owned=owned, physical_id=user["Arn"])

    def observe(self, ctx: RunContext, name: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        user = user or iam.get_user(UserName=physical)["User"]
        groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName=physical)["Groups"]]
        return {
            "inline_policies": read_inline(iam, "User", physical),
            "managed_policies": read_attached(iam, "User", physical),
            "groups": sorted(groups),
            "permissions_boundary": user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
        }

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        self.update(ctx, name, self.empty(), after)

    @staticmethod
    def empty() -> dict[str, Any]:
        return {"inline_policies": {}, "managed_policies": [], "groups": [], "permissions_boundary": None}

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        converge_inline(iam, "User", physical, before["inline_policies"], after["inline_policies"])
        converge_attached(iam, "User", physical, before["managed_policies"], after["managed_policies"])
        for group in sorted(set(before["groups"]) - set(after["groups"])):
            iam.remove_user_from_group(UserName=physical, GroupName=group)
        for group in sorted(set(after["groups"]) - set(before["groups"])):
            iam.add_user_to_group(UserName=physical, GroupName=group)
        if before["permissions_boundary"] != after["permissions_boundary"]:
            if after["permissions_boundary"]:
                iam.put_user_permissions_boundary(UserName=physical, PermissionsBoundary=after["permissions_boundary"])
            else:
                iam.delete_user_permissions_boundary(UserName=physical)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        if _get_user(ctx, name) is not None:
            self.update(ctx, name, before, self.empty())
