"""What IAM users, groups and roles share: inline policies, attached managed policies and
(users and roles) a permissions boundary, read and converged by one `PrincipalAccess`.

IAM API Reference: Put/Get/Delete/List{User,Group,Role}Policy and
Attach/Detach/ListAttached{User,Group,Role}Policies take the same shapes for all three.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import unquote

from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.model.policy import IdentityPolicyDocument
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, tag_dict
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


def access_permissions(entity: str, *between: str, boundary: bool = True) -> tuple[str, ...]:
    """The IAM actions a principal's access reconciler needs: its inline and attached policies,
    then `between` (what only that kind has), then its permissions boundary."""
    policies = (f"iam:List{entity}Policies", f"iam:Get{entity}Policy", f"iam:Put{entity}Policy", f"iam:Delete{entity}Policy",
                f"iam:ListAttached{entity}Policies", f"iam:Attach{entity}Policy", f"iam:Detach{entity}Policy")
    limits = (f"iam:Put{entity}PermissionsBoundary", f"iam:Delete{entity}PermissionsBoundary") if boundary else ()
    return policies + between + limits


def get_principal(ctx: RunContext, entity: str, name: str) -> dict[str, Any] | None:
    """Get{User,Group,Role}'s `entity` member, or None when there is no such principal."""
    try:
        return getattr(ctx.backend.client("iam"), f"get_{entity.lower()}")(**{f"{entity}Name": ctx.physical(name)})[entity]
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise


def principal_tags(ctx: RunContext, entity: str, name: str) -> dict[str, str]:
    """List{User,Role}Tags (groups cannot be tagged)."""
    answer = getattr(ctx.backend.client("iam"), f"list_{entity.lower()}_tags")(**{f"{entity}Name": ctx.physical(name)})
    return tag_dict(answer.get("Tags"))


def read_principal(ctx: RunContext, entity: str, name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Get{User,Role} and its tags, kept for the access reconciler, which reads the same principal
    next in this pass (nothing in between changes it); None when there is no such principal."""
    found = get_principal(ctx, entity, name)
    if found is None:
        return None
    tags = principal_tags(ctx, entity, name)
    ctx.cache[(f"iam_{entity.lower()}", name)] = (found, tags)
    return found, tags


class PrincipalAccess:
    """What a user's, group's or role's access is: its inline and attached policies and (users
    and roles) its permissions boundary. A subclass names its entity ('User', 'Group', 'Role':
    the IAM API calls follow from it), its scenario section, and what only it has (a user's
    groups) through the `*_extra` hooks; the order of the calls is that of the kinds before."""

    entity: ClassVar[str]
    kind: ClassVar[str]
    section: ClassVar[str]
    permissions: ClassVar[tuple[str, ...]]
    #: Whether the principal has a permissions boundary (groups have none).
    boundary: ClassVar[bool] = True
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(getattr(desired, self.section))

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        spec = getattr(desired, self.section)[name]
        state = {
            "inline_policies": desired_inline(ctx, spec.inline_policies),
            "managed_policies": sorted(ctx.managed_policy_arn(p) for p in spec.managed_policies),
            **self.desired_extra(ctx, spec),
        }
        if self.boundary:
            state["permissions_boundary"] = ctx.managed_policy_arn(spec.permissions_boundary) if spec.permissions_boundary else None
        return state

    def find(self, ctx: RunContext, name: str) -> tuple[dict[str, Any] | None, bool]:
        """The principal and whether this scenario owns it; the principal's own reconciler read
        it and its tags just before (a cache entry under its kind), or they are read here."""
        cached = ctx.cache.pop((f"iam_{self.entity.lower()}", name), None)
        entity, tags = cached if cached is not None else (get_principal(ctx, self.entity, name), None)
        if entity is None:
            return None, False
        return entity, ctx.owns(tags if tags is not None else principal_tags(ctx, self.entity, name)) or ctx.adopt

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        entity, owned = self.find(ctx, name)
        if entity is None:
            return None
        return Observed(self.observe(ctx, name, entity), owned=owned, physical_id=entity["Arn"])

    def observe(self, ctx: RunContext, name: str, entity: dict[str, Any] | None = None) -> dict[str, Any]:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        if self.boundary:
            entity = entity or getattr(iam, f"get_{self.entity.lower()}")(**{f"{self.entity}Name": physical})[self.entity]
        extra = self.observe_extra(iam, physical)
        state = {"inline_policies": read_inline(iam, self.entity, physical),
                 "managed_policies": read_attached(iam, self.entity, physical), **extra}
        if self.boundary:
            state["permissions_boundary"] = (entity or {}).get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        return state

    def empty(self) -> dict[str, Any]:
        state = {"inline_policies": {}, "managed_policies": [], **self.empty_extra()}
        return {**state, "permissions_boundary": None} if self.boundary else state

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        self.update(ctx, name, self.empty(), after)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        iam = ctx.backend.client("iam")
        physical = ctx.physical(name)
        converge_inline(iam, self.entity, physical, before["inline_policies"], after["inline_policies"])
        converge_attached(iam, self.entity, physical, before["managed_policies"], after["managed_policies"])
        self.update_extra(iam, physical, before, after)
        if self.boundary and before["permissions_boundary"] != after["permissions_boundary"]:
            field = {f"{self.entity}Name": physical}
            if after["permissions_boundary"]:
                getattr(iam, f"put_{self.entity.lower()}_permissions_boundary")(**field, PermissionsBoundary=after["permissions_boundary"])
            else:
                getattr(iam, f"delete_{self.entity.lower()}_permissions_boundary")(**field)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        if get_principal(ctx, self.entity, name) is not None:
            self.update(ctx, name, before, self.empty())

    def detach_all(self, ctx: RunContext, name: str) -> None:
        """Whatever is still attached, as the principal's deletion needs (IAM refuses to delete a
        principal with policies attached)."""
        self.delete(ctx, name, self.observe(ctx, name), None)

    # What only one kind has (a user's groups): nothing, unless a subclass says otherwise.
    def desired_extra(self, ctx: RunContext, spec: Any) -> dict[str, Any]:
        return {}

    def observe_extra(self, iam: Any, physical: str) -> dict[str, Any]:
        return {}

    def empty_extra(self) -> dict[str, Any]:
        return {}

    def update_extra(self, iam: Any, physical: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        return None
