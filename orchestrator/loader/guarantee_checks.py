"""Checks on a state's `guarantees` that the schema cannot express (model/scenario.py Guarantee).

A guarantee's resource is a declared resource of that state, each of its actions one the language
knows for that resource's kind (EXPECTATION_ACTIONS), each `only` entry a declared principal or
account, `outside-organization` needs an `organization:`, and nothing is said twice: an action or
a principal within one guarantee, or a whole guarantee within one state. Each problem is located
at the element that has it. Whether a guarantee holds is not decided here (issue 24).
"""

from __future__ import annotations

from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.validation import Problem
from orchestrator.model.scenario import EXPECTATION_ACTIONS, DesiredState, Guarantee

Path = tuple[PathElement, ...]
#: The kinds a guarantee's resource may be: what an expectation may act on, but an alias (a way of
#: calling a key, not a resource: a guarantee on the key covers every call through its aliases).
RESOURCE_KINDS = ("table", "key", "role", "bucket", "object")
RESOURCE_FORMS = "table:NAME, key:NAME, role:NAME, bucket:NAME, object:BUCKET/KEY"
#: The reference forms of `only`, and the scenario section each names.
PRINCIPAL_SECTIONS = {"user": "users", "role": "roles", "session": "roles", "account": "accounts"}
#: Identifies a guarantee in its state: its resource, actions and whom it admits or shuts out.
Identity = tuple[str, frozenset[str], frozenset[str] | str | None]


def check_guarantees(desired: DesiredState, guarantees: list[Guarantee], path: Path) -> list[Problem]:
    """Every guarantee of one state (at `path`: `states[i].guarantees`) against its desired state."""
    problems: list[Problem] = []
    seen: dict[Identity, int] = {}
    for index, guarantee in enumerate(guarantees):
        where = path + (index,)
        problems += check_guarantee(desired, guarantee, where)
        identity = _identity(guarantee)
        if identity in seen:
            problems.append(Problem(where, f"the same guarantee as guarantees[{seen[identity]}] of this state"))
        seen.setdefault(identity, index)
    return problems


def check_guarantee(desired: DesiredState, guarantee: Guarantee, path: Path) -> list[Problem]:
    problems = _check_resource(desired, guarantee.resource, path + ("resource",))
    problems += _check_actions(guarantee, path + ("actions",))
    problems += _check_only(desired, guarantee.only or [], path + ("only",))
    if guarantee.no_access_from == "outside-organization" and desired.organization is None:
        problems.append(Problem(path + ("no_access_from",), "`outside-organization` needs the scenario's"
                                " `organization:`, and this scenario declares none (use outside-account or public)"))
    return problems


def _identity(guarantee: Guarantee) -> Identity:
    admitted = frozenset(guarantee.only) if guarantee.only is not None else guarantee.no_access_from
    return guarantee.resource, frozenset(guarantee.actions), admitted


def _check_resource(desired: DesiredState, resource: str, path: Path) -> list[Problem]:
    kind, _, name = resource.partition(":")
    if kind not in RESOURCE_KINDS:
        return [Problem(path, f"a guarantee names the resource itself ({RESOURCE_FORMS}), not {resource!r}:"
                              " a guarantee on key:NAME covers every call through its aliases")]
    section = "buckets" if kind == "object" else f"{kind}s"
    declared = getattr(desired, section)
    name = name.partition("/")[0] if kind == "object" else name
    if name not in declared:
        noun = "bucket" if kind == "object" else kind
        return [Problem(path, f"{resource!r} names no {noun} of this scenario{_known(set(declared))}")]
    return []


def _check_actions(guarantee: Guarantee, path: Path) -> list[Problem]:
    kind = guarantee.resource.partition(":")[0]
    problems = []
    for index, action in enumerate(guarantee.actions):
        wanted = EXPECTATION_ACTIONS[action]
        if action in guarantee.actions[:index]:
            problems.append(Problem(path + (index,), f"{action} is listed twice"))
        elif kind in RESOURCE_KINDS and wanted != kind:
            problems.append(Problem(path + (index,), f"{action} acts on a {wanted}, not a {kind}"))
    return problems


def _check_only(desired: DesiredState, principals: list[str], path: Path) -> list[Problem]:
    problems = []
    for index, principal in enumerate(principals):
        if principal in principals[:index]:
            problems.append(Problem(path + (index,), f"{principal!r} is listed twice"))
        elif principal != "orchestrate":
            problems += _check_principal(desired, principal, path + (index,))
    return problems


def _check_principal(desired: DesiredState, principal: str, path: Path) -> list[Problem]:
    kind, _, name = principal.partition(":")
    name = name.partition("/")[0] if kind == "session" else name
    declared = set(getattr(desired, PRINCIPAL_SECTIONS[kind]))
    if kind == "account":
        declared.add("home")
    if name in declared:
        return []
    noun = "role" if kind == "session" else kind
    return [Problem(path, f"{principal!r} names no {noun} of this scenario{_known(declared)}")]


def _known(names: set[str]) -> str:
    return f" (known: {', '.join(sorted(names))})" if names else " (there are none)"
