"""IAM groups and their access (inline and attached policies).

IAM groups cannot be tagged, so the path `/orchestrate/SCENARIO/` marks the groups a scenario
owns. IAM API Reference: CreateGroup, DeleteGroup (after members and policies are gone).
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code
from orchestrator.resources.context import RunContext
from orchestrator.resources.iam_common import PrincipalAccess, access_permissions, get_principal


def _get_group(ctx: RunContext, name: str) -> dict[str, Any] | None:
    try:
        return ctx.backend.client("iam").get_group(GroupName=ctx.physical(name))
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise


class IamGroup:
    kind: ClassVar[str] = "iam_group"
    section: ClassVar[str] = "groups"
    permissions: ClassVar[tuple[str, ...]] = (
        "iam:CreateGroup", "iam:GetGroup", "iam:UpdateGroup", "iam:DeleteGroup", "iam:RemoveUserFromGroup",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.groups)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        return {"path": ctx.iam_path()}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        answer = _get_group(ctx, name)
        if answer is None:
            return None
        group = answer["Group"]
        owned = group["Path"] == ctx.iam_path() or ctx.adopt
        return Observed({"path": group["Path"]}, owned=owned, physical_id=group["Arn"])

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        ctx.backend.client("iam").create_group(GroupName=ctx.physical(name), Path=after["path"])

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        ctx.backend.client("iam").update_group(GroupName=ctx.physical(name), NewPath=after["path"])

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        answer = _get_group(ctx, name)
        for user in (answer or {}).get("Users", []):
            iam.remove_user_from_group(GroupName=physical, UserName=user["UserName"])
        IamGroupAccess().detach_all(ctx, name)
        iam.delete_group(GroupName=physical)


class IamGroupAccess(PrincipalAccess):
    entity: ClassVar[str] = "Group"
    kind: ClassVar[str] = "iam_group_access"
    section: ClassVar[str] = "groups"
    permissions: ClassVar[tuple[str, ...]] = access_permissions("Group", boundary=False)
    boundary: ClassVar[bool] = False

    def find(self, ctx: RunContext, name: str) -> tuple[dict[str, Any] | None, bool]:
        """Groups carry no tags: the scenario's path marks them as its own."""
        group = get_principal(ctx, "Group", name)
        return group, group is not None and (group["Path"] == ctx.iam_path() or ctx.adopt)
