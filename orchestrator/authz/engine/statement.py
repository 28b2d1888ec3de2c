"""A compiled policy statement and the test "does it apply to this request?".

Follows the IAM User Guide, "IAM JSON policy elements" (Effect, Action /
NotAction, Resource / NotResource, Principal / NotPrincipal, Condition) and
"Policy evaluation logic": a statement applies when its action, resource,
principal and every condition match.  In a resource-based policy a missing
Resource means the resource the policy is attached to; identity-based
statements need a Resource (or NotResource) and have no Principal.
``NotPrincipal`` is supported only with ``Deny``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.authz.engine.conditions import Condition, compile_conditions
from orchestrator.authz.engine.matching import EVERYONE, ActionMatcher, PrincipalMatcher, ResourceMatcher, action_matcher
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.engine.variables import Lookup, literal_template, parse_template

__all__ = ["Statement", "IDENTITY", "string_list"]

IDENTITY = "identity"


def string_list(value: Any) -> tuple[str, ...] | None:
    """A policy element that is a string or a list of strings; None otherwise."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        return None
    for item in value:  # a loop, not all(...): compiled once per statement of every distinct policy
        if not isinstance(item, str):
            return None
    return tuple(value)


def _element(raw: Mapping[str, Any], name: str) -> tuple[bool, tuple[str, ...] | None]:
    """(negated, values) for Action/NotAction or Resource/NotResource."""
    if name in raw:
        return False, string_list(raw[name])
    if "Not" + name in raw:
        return True, string_list(raw["Not" + name])
    return False, None


class Statement:
    """One compiled statement (``index`` is its 0-based position in Statement)."""

    __slots__ = ("sid", "index", "allow", "actions", "not_action", "resources",
                 "not_resource", "principal", "not_principal", "conditions", "valid", "static_resource", "refs",
                 "labels")

    def __init__(self, raw: Mapping[str, Any], index: int, variables: bool, resource_based: bool,
                 action_matchers: dict[tuple[str, ...], ActionMatcher] | None = None) -> None:
        sid = raw.get("Sid")
        self.sid: str | None = sid if isinstance(sid, str) else None
        self.index = index
        self.allow = raw.get("Effect") == "Allow"
        self.not_action, actions = _element(raw, "Action")
        self.actions: ActionMatcher | None = None
        if actions is not None:  # policies repeat the same few Action lists: one matcher each, if kept
            found = action_matchers.get(actions) if action_matchers is not None else None
            self.actions = found if found is not None else action_matcher(actions)
            if action_matchers is not None and found is None:
                action_matchers[actions] = self.actions
        self.not_resource, resources = _element(raw, "Resource")
        make = parse_template if variables else literal_template
        self.resources = ResourceMatcher.of(resources, make) if resources is not None else None
        self.not_principal = "Principal" not in raw and "NotPrincipal" in raw
        element = raw.get("NotPrincipal" if self.not_principal else "Principal")
        self.principal = PrincipalMatcher(element) if element is not None else None
        self.conditions: tuple[Condition, ...] = compile_conditions(raw.get("Condition"), variables)
        self.valid = self._is_valid(resources, resource_based)
        #: The resource matcher when it needs no request context (the common case), else None.
        # The object, not its ``match``: a hot glob replaces its ``match`` with a regex.
        self.static_resource = self.resources.static if self.resources is not None else None
        #: StatementRefs made of this statement, by (policy kind, policy name) (explain.statement_ref).
        self.refs: dict[tuple[str, str], Any] = {}
        #: Its words in reasons ('statement "Sid" of the key policy'), per policy and caller
        #: (explain.py): a reason is built on every decision, and its labels repeat.
        self.labels: dict[tuple[str, str, str], str] = {}

    def _is_valid(self, resources: tuple[str, ...] | None, resource_based: bool) -> bool:
        if self.actions is None:
            return False
        if resource_based:
            return self.principal is not None and not (self.not_principal and self.allow)
        return resources is not None and self.principal is None

    def applies(self, action: str, resource: str, principal: Principal, context: Lookup,
                missing: list[str], failed: list[Condition], has_boundary: bool = False) -> str | None:
        """How the statement names the caller (IDENTITY, DIRECT, ROLE, ACCOUNT, EVERYONE), or None.

        ``action`` must be lower-case.  Failed conditions are appended to
        ``failed`` and absent condition keys to ``missing``.
        """
        if not self.action_matches(action):
            return None
        return self.applies_to_matched(resource, principal, context, missing, failed, has_boundary)

    def action_matches(self, action: str) -> bool:
        """Is the statement valid and does its Action/NotAction element take lower-case ``action``?"""
        return self.valid and self.actions is not None and self.actions.match(action) != self.not_action

    def applies_to_matched(self, resource: str, principal: Principal, context: Lookup, missing: list[str],
                           failed: list[Condition], has_boundary: bool = False) -> str | None:
        """:meth:`applies` for a statement whose action matches already (Policy.candidates)."""
        static = self.static_resource
        if static is not None:
            if static.match(resource) == self.not_resource:
                return None
        elif self.resources is not None and self.resources.matches(resource, context, missing) == self.not_resource:
            return None
        kind = IDENTITY if self.principal is None else self._principal_kind(principal, has_boundary)
        if kind is None:
            return None
        ok = True
        for condition in self.conditions:
            if not condition.check(context, missing):
                failed.append(condition)
                ok = False
        return kind if ok else None

    def _principal_kind(self, principal: Principal, has_boundary: bool) -> str | None:
        if self.principal is None:
            return IDENTITY
        if not self.not_principal:
            return self.principal.match(principal)
        # IAM User Guide, "NotPrincipal": a Deny with NotPrincipal always denies a
        # principal that has a permissions boundary attached.
        if not has_boundary and self.principal.excludes(principal):
            return None
        return EVERYONE
