"""Policy states: each state's patch applied over the previous state's desired document.

Patches are cumulative, like the manual exercise they replace: state 2 is state 1 plus its
patch. A problem that a patch introduces is reported at the patch's own lines; a problem the
base document already had is reported once, at the base.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.guarantee_checks import check_guarantees
from orchestrator.loader.references import check_desired, check_expectation, entity_names
from orchestrator.loader.validation import Problem, problems_from
from orchestrator.model.patch import STATEMENT, merge_patch
from orchestrator.model.patch_schema import PATCHABLE_FIELDS
from orchestrator.model.scenario import DesiredState, State

Path = tuple[PathElement, ...]
ENTITY_SECTIONS = ("policies", "groups", "users", "keys", "tables", "roles", "buckets", "account_public_access_block",
                   "vpc_endpoints")
#: The organization is one object, not entities by name; a state patches only these of its fields
#: (its policies and where FullAWSAccess is detached), and its policies as entities.
ORGANIZATION = "organization"
SECTIONS = ENTITY_SECTIONS + (ORGANIZATION,)


def base_document(data: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {section: data.get(section) or {} for section in ENTITY_SECTIONS}
    document[ORGANIZATION] = data.get(ORGANIZATION)  # None: no organization (not one with the defaults)
    accounts = data.get("accounts")
    document["accounts"] = accounts if isinstance(accounts, dict) else {}
    return document


def check_patch_targets(document: dict[str, Any], patch: dict[str, Any], path: Path) -> list[Problem]:
    """A state changes known entities; it neither adds nor removes them."""
    problems = []
    for section, entities in patch.items():
        if section not in SECTIONS:
            problems.append(Problem(path + (section,), f"a state patches {', '.join(SECTIONS)}; {section!r} is not one of them", at_key=True))
        elif section == ORGANIZATION:
            problems += _check_organization_patch(document.get(ORGANIZATION), entities, path + (section,))
        elif not isinstance(entities, dict):
            problems.append(Problem(path + (section,), f"a patch of {section} maps names to changes"))
        else:
            problems += _check_entity_changes(document[section], entities, section, path + (section,))
    return problems


def _check_entity_changes(declared: Any, entities: dict[str, Any], section: str, path: Path) -> list[Problem]:
    problems = []
    for name, change in entities.items():
        if not isinstance(declared, dict) or name not in declared:
            problems.append(Problem(path + (name,), f"{section}.{name} is not declared in the scenario; a state can only patch declared entities", at_key=True))
        elif change is None:
            problems.append(Problem(path + (name,), f"a state cannot remove {section}.{name}; entities live for the whole scenario"))
        elif isinstance(change, dict) and "account" in change:
            problems.append(Problem(path + (name, "account"), f"a state cannot move {section}.{name} to another account;"
                                    " an entity lives in one account for the whole scenario", at_key=True))
    return problems


def _check_organization_patch(declared: Any, change: Any, path: Path) -> list[Problem]:
    """A state patches the organization's policies (as entities: none added or removed) and
    `detach_full_aws_access`; its management account, members and units live for the whole scenario."""
    if not isinstance(declared, dict):
        return [Problem(path, "the scenario declares no organization; a state can only patch a declared one", at_key=True)]
    if not isinstance(change, dict):
        return [Problem(path, f"a patch of {ORGANIZATION} maps its fields ({', '.join(PATCHABLE_FIELDS[ORGANIZATION])}) to changes")]
    problems = []
    for field, value in change.items():
        if field not in PATCHABLE_FIELDS[ORGANIZATION]:
            problems.append(Problem(path + (field,), f"a state patches the organization's {', '.join(PATCHABLE_FIELDS[ORGANIZATION])};"
                                    f" its {field} live for the whole scenario", at_key=True))
        elif field in ("scps", "rcps") and isinstance(value, dict):
            problems += _check_entity_changes(declared.get(field) or {}, value, f"{ORGANIZATION}.{field}", path + (field,))
        elif field in ("scps", "rcps"):
            problems.append(Problem(path + (field,), f"a patch of {ORGANIZATION}.{field} maps names to changes"))
    return problems


def desired_states(data: dict[str, Any], states: list[State]) -> tuple[list[DesiredState], list[Problem]]:
    """The desired state for each policy state, and the problems of the base and of each patch."""
    document = base_document(data)
    desired: list[DesiredState] = []
    current, problems = _validate(document, (), {})
    reported = {(p.path, p.message) for p in problems}
    for index, state in enumerate(states):
        prefix: Path = ("states", index)
        patch_path = prefix + ("patch",)
        target_problems = check_patch_targets(document, state.patch, patch_path)
        if target_problems:
            problems += target_problems
            desired.append(current or DesiredState())
            continue
        document = merge_patch(document, state.patch)
        current, found = _validate(document, patch_path, state.patch)
        problems += [p for p in found if (p.path, p.message) not in reported]
        reported |= {(p.path, p.message) for p in found}
        desired.append(current or DesiredState())
        if current is not None:
            names = entity_names(current)  # once per state, not per expectation (issue 21)
            for number, expectation in enumerate(state.expectations):
                problems += check_expectation(current, expectation, prefix + ("expectations", number), names)
            problems += check_guarantees(current, state.guarantees, prefix + ("guarantees",))
    return desired, problems


def _validate(document: dict[str, Any], patch_path: Path, patch: dict[str, Any]) -> tuple[DesiredState | None, list[Problem]]:
    try:
        desired = DesiredState.model_validate(document)
    except ValidationError as error:
        return None, [_relocate(p, document, patch, patch_path) for p in problems_from(error, document)]
    return desired, [_relocate(p, document, patch, patch_path) for p in check_desired(desired)]


def _relocate(problem: Problem, document: dict[str, Any], patch: dict[str, Any], patch_path: Path) -> Problem:
    """Point at the patch when the problem lies in what the patch wrote, else at the base."""
    if not patch_path:
        return problem
    within = patch_location(problem.path, document, patch)
    if within is None:
        return problem
    return Problem(patch_path + within, problem.message, problem.at_key)


def patch_location(path: Path, document: Any, patch: Any) -> Path | None:
    """The path inside the patch that wrote document[path], or None if the patch did not touch it."""
    located: list[PathElement] = []
    node, patch_node = document, patch
    for element in path:
        if isinstance(patch_node, dict) and isinstance(element, str) and element in patch_node:
            located.append(element)
            patch_node, node = patch_node[element], _child(node, element)
        elif isinstance(element, int) and located and located[-1] == STATEMENT and isinstance(patch_node, dict):
            sid = _sid(node, element)
            if sid is None or sid not in patch_node:
                return None
            located.append(sid)
            patch_node, node = patch_node[sid], _child(node, element)
        elif isinstance(patch_node, list) and isinstance(element, int) and element < len(patch_node):
            located.append(element)
            patch_node, node = patch_node[element], _child(node, element)
        else:
            return tuple(located) if located and not isinstance(patch_node, dict) else None
    return tuple(located) if located else None


def _child(node: Any, element: PathElement) -> Any:
    if isinstance(node, dict):
        return node.get(element)
    if isinstance(node, list) and isinstance(element, int) and element < len(node):
        return node[element]
    return None


def _sid(statements: Any, index: int) -> str | None:
    if isinstance(statements, list) and index < len(statements) and isinstance(statements[index], dict):
        sid = statements[index].get("Sid")
        return sid if isinstance(sid, str) else None
    return None
