"""`orchestrate destroy FILE`: remove what the scenario owns (access keys first; KMS keys are
scheduled for deletion with the scenario's window, which makes them unusable at once). Exit 0, or 3 on failure."""

from __future__ import annotations

import argparse
import json

from orchestrator.reconcile.apply import destroy
from orchestrator.commands.common import announce_destroy, finish, load, session
from orchestrator.report.plan_text import render_change
from orchestrator.report.style import stdout_style
from orchestrator.report.words import counted


def run(args: argparse.Namespace) -> int:
    return finish(_destroy, args)


def _destroy(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    with session(args, loaded, lock=True) as ctx:
        announce_destroy(ctx, loaded.desired[-1])
        plan = destroy(ctx, loaded.desired[-1])
    if args.output == "json":
        print(json.dumps({"format_version": "1", "scenario": loaded.scenario.name, **plan.as_json()}, indent=2, default=str))
        return 0
    style = stdout_style(args.no_color)
    for change in plan.changes:
        print("\n".join(render_change(change, style)[:1]))
    print(f"Destroyed {counted(sum(1 for c in plan.changes if c.action.value == 'delete'), 'resource')}.")
    return 0
