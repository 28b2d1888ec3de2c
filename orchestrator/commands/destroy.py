"""`orchestrate destroy FILE`: remove what the scenario owns (access keys first; KMS keys are
scheduled for deletion with the scenario's window, which makes them unusable at once). Exit 0, or 3 on failure."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from orchestrator.reconcile.apply import destroy
from orchestrator.commands.common import finish, load, session
from orchestrator.report.plan_text import render_change
from orchestrator.report.style import stdout_style
from orchestrator.report.words import counted


def run(args: argparse.Namespace) -> int:
    return finish(_destroy, args)


def announce(ctx: Any, desired: Any) -> None:
    """--manage-organization on real AWS: the organization changes destroy makes, and the accounts
    each reaches, on stderr before it makes them (run's destroy too)."""
    if ctx.backend.kind != "aws" or not ctx.manage_organization:
        return
    from orchestrator.reconcile.organization_reach import destroy_reach
    from orchestrator.report.organization_reach import render_reach

    print(render_reach(str(ctx.backend.world), destroy_reach(ctx, desired)), file=sys.stderr, flush=True)


def _destroy(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    with session(args, loaded, lock=True) as ctx:
        announce(ctx, loaded.desired[-1])
        plan = destroy(ctx, loaded.desired[-1])
    if args.output == "json":
        print(json.dumps({"format_version": "1", "scenario": loaded.scenario.name, **plan.as_json()}, indent=2, default=str))
        return 0
    style = stdout_style(args.no_color)
    for change in plan.changes:
        print("\n".join(render_change(change, style)[:1]))
    print(f"Destroyed {counted(sum(1 for c in plan.changes if c.action.value == 'delete'), 'resource')}.")
    return 0
