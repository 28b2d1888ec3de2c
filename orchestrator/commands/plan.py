"""`orchestrate plan FILE [--state NAME]`: what apply would change. Exit 0 none, 2 changes, 1 error."""

from __future__ import annotations

import argparse
import json

from orchestrator.commands.common import EXIT_FAILED, finish, load, session
from orchestrator.reconcile.observe import plan_state
from orchestrator.report.plan_text import render_plan
from orchestrator.report.style import stdout_style

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_plan, args)


def _plan(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    index = loaded.state_index(args.state) if args.state else 0
    state = loaded.scenario.states[index]
    with session(args, loaded, infra_code=EXIT_FAILED) as ctx:
        plan = plan_state(ctx, loaded.desired[index], state.name)
    if args.output == "json":
        print(json.dumps({"format_version": FORMAT_VERSION, "scenario": loaded.scenario.name, **plan.as_json()}, indent=2, default=str))
    else:
        print(render_plan(plan, stdout_style(args.no_color)))
    return 2 if plan.pending else 0
