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
from orchestrator.resources.base import Observed, retag, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.iam_common import PrincipalAccess, access_permissions, read_principal


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
        found = read_principal(ctx, "User", name)
        if found is None:
            return None
        user, tags = found
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
        IamUserAccess().detach_all(ctx, name)
        iam.delete_user(UserName=physical)


class IamUserAccess(PrincipalAccess):
    """A user's access is also the groups it is in (ListGroupsForUser, Add/RemoveUserToGroup)."""

    entity: ClassVar[str] = "User"
    kind: ClassVar[str] = "iam_user_access"
    section: ClassVar[str] = "users"
    permissions: ClassVar[tuple[str, ...]] = access_permissions(
        "User", "iam:ListGroupsForUser", "iam:AddUserToGroup", "iam:RemoveUserFromGroup")

    def desired_extra(self, ctx: RunContext, spec: Any) -> dict[str, Any]:
        return {"groups": sorted(ctx.physical(g) for g in spec.groups)}

    def observe_extra(self, iam: Any, physical: str) -> dict[str, Any]:
        return {"groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=physical)["Groups"])}

    def empty_extra(self) -> dict[str, Any]:
        return {"groups": []}

    def update_extra(self, iam: Any, physical: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        for group in sorted(set(before["groups"]) - set(after["groups"])):
            iam.remove_user_from_group(UserName=physical, GroupName=group)
        for group in sorted(set(after["groups"]) - set(before["groups"])):
            iam.add_user_to_group(UserName=physical, GroupName=group)
