"""The resources of a policy state as findings ask about them: keys, tables, buckets and roles'
trust, each with its whole stack as `whoelse.from_state.outside_question` builds it (the same
policies the gate decides with), one question per resource, its scope and action set per cell.

A bucket's object actions are asked on its first seed object (else on the object `example`): the
concrete request names one object, so a bucket policy opening only another prefix is not seen
there (documented in docs/whoelse.md, "Findings")."""
from __future__ import annotations

from orchestrator.analysis.findings import Target, actions_of
from orchestrator.model.scenario import EXPECTATION_ACTIONS, DesiredState
from orchestrator.resources.context import RunContext
from orchestrator.whoelse import Scope
from orchestrator.whoelse.from_state import QuestionError, outside_question, world_of

__all__ = ["targets_of", "PLACEHOLDER_OBJECT"]

PLACEHOLDER_OBJECT = "example"
_SECTIONS = (("keys", "key"), ("tables", "table"), ("buckets", "bucket"), ("roles", "role"))


def targets_of(ctx: RunContext, state: int, desired: DesiredState) -> list[Target]:
    """Every resource of the state that has a policy of its own to ask about (a create-only table
    exists only while its expectation runs: not asked)."""
    world = world_of(ctx, desired)
    found = []
    for section, kind in _SECTIONS:
        for name, entity in getattr(desired, section).items():
            if getattr(entity, "create_only", False):
                continue
            resource = f"{kind}:{name}"
            try:
                question = outside_question(ctx, desired, resource, (), Scope(), world=world)
            except QuestionError:  # not in this state's world (the loader lets nothing else through)
                continue
            found.append(Target(state, resource, kind, question, resource_of=_objects(ctx, kind, name, entity)))
    return found


def _objects(ctx: RunContext, kind: str, name: str, entity: object) -> dict[str, str]:
    if kind != "bucket":
        return {}
    objects = getattr(entity, "objects", [])
    key = objects[0].key if objects else PLACEHOLDER_OBJECT
    arn = ctx.arn(f"object:{name}/{key}")
    return {action: arn for action in actions_of(kind) if EXPECTATION_ACTIONS[action] == "object"}
