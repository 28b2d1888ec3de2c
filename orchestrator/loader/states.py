"""Policy states: each state's patch applied over the previous state's desired document.

Patches are cumulative, like the manual exercise they replace: state 2 is state 1 plus its
patch. A problem that a patch introduces is reported at the patch's own lines; a problem the
base document already had is reported once, at the base.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.references import check_desired, check_expectation, entity_names
from orchestrator.loader.validation import Problem, problems_from
from orchestrator.model.patch import STATEMENT, merge_patch
from orchestrator.model.scenario import DesiredState, State

Path = tuple[PathElement, ...]
SECTIONS = ("policies", "groups", "users", "keys", "tables", "roles", "buckets", "account_public_access_block")


def base_document(data: dict[str, Any]) -> dict[str, Any]:
    document = {section: data.get(section) or {} for section in SECTIONS}
    accounts = data.get("accounts")
    document["accounts"] = accounts if isinstance(accounts, dict) else {}
    return document


def check_patch_targets(document: dict[str, Any], patch: dict[str, Any], path: Path) -> list[Problem]:
    """A state changes known entities; it neither adds nor removes them."""
    problems = []
    for section, entities in patch.items():
        if section not in SECTIONS:
            problems.append(Problem(path + (section,), f"a state patches {', '.join(SECTIONS)}; {section!r} is not one of them", at_key=True))
            continue
        if not isinstance(entities, dict):
            problems.append(Problem(path + (section,), f"a patch of {section} maps names to changes"))
            continue
        for name, change in entities.items():
            if name not in document[section]:
                problems.append(Problem(path + (section, name), f"{section}.{name} is not declared in the scenario; a state can only patch declared entities", at_key=True))
            elif change is None:
                problems.append(Problem(path + (section, name), f"a state cannot remove {section}.{name}; entities live for the whole scenario"))
            elif isinstance(change, dict) and "account" in change:
                problems.append(Problem(path + (section, name, "account"), f"a state cannot move {section}.{name} to another account;"
                                        " an entity lives in one account for the whole scenario", at_key=True))
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
