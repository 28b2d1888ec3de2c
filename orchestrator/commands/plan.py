"""`orchestrate plan FILE [--state NAME]`: what apply would change. Exit 0 none, 2 changes, 1 error.

Without --state, the walk apply makes (`reconcile.observe.plan_walk`): the first state from the
world as it is, each later state from the one before. Exit 0 when the world is in the last state,
where apply leaves it (Terraform's "No changes."), even though apply would pass through the
earlier states on the way; 2 otherwise. With --state, that state alone against the world."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from orchestrator.commands.common import finish, load, session
from orchestrator.exit_codes import ExitCode
from orchestrator.reconcile.observe import plan_state, plan_walk
from orchestrator.report.organization_reach import render_reach, reach_json
from orchestrator.report.plan_text import render_plan, render_walk
from orchestrator.report.style import stdout_style

if TYPE_CHECKING:
    from orchestrator.reconcile.organization_reach import Reach

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_plan, args)


def _plan(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    if args.state:
        return _one_state(args, loaded, loaded.state_index(args.state))
    states = [(state.name, desired) for state, desired in zip(loaded.scenario.states, loaded.desired)]
    with session(args, loaded, infra_code=ExitCode.ERROR) as ctx:
        walk = plan_walk(ctx, states)
        reach = _organization_reach(ctx, states)
    if args.output == "json":
        # "state" and "changes" are the first state's plan, as plan printed before it showed the walk
        extra = {} if reach is None else {"organization_reach": reach_json(reach)}
        _print_json(loaded.scenario.name, {**walk.steps[0].plan.as_json(), **walk.as_json(), **extra})
    else:
        print(render_walk(walk, stdout_style(args.no_color)))
        if reach is not None:
            print(render_reach(str(ctx.backend.world), reach))
    return ExitCode.OK if walk.no_changes else ExitCode.CHANGES


def _organization_reach(ctx: Any, states: list[tuple[str, Any]]) -> list[Reach] | None:
    """With --manage-organization on real AWS: the organization changes apply would make, and the
    accounts each reaches (what apply lists once its preflight passes); None otherwise."""
    if ctx.backend.kind != "aws" or not ctx.manage_organization:
        return None
    from orchestrator.reconcile.organization_reach import apply_reach

    return apply_reach(ctx, states)


def _one_state(args: argparse.Namespace, loaded: Any, index: int) -> int:
    """`--state NAME`: that state against the world as it is."""
    with session(args, loaded, infra_code=ExitCode.ERROR) as ctx:
        plan = plan_state(ctx, loaded.desired[index], loaded.scenario.states[index].name)
    if args.output == "json":
        _print_json(loaded.scenario.name, plan.as_json())
    else:
        print(render_plan(plan, stdout_style(args.no_color)))
    return ExitCode.CHANGES if plan.pending else ExitCode.OK


def _print_json(scenario: str, body: dict[str, Any]) -> None:
    print(json.dumps({"format_version": FORMAT_VERSION, "scenario": scenario, **body}, indent=2, default=str))
