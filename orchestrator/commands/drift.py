"""`orchestrate drift FILE [--state NAME]`: read-only comparison of desired and actual.
Exit 0 in sync, 2 drift, 1 error. By default it compares against the last state."""

from __future__ import annotations

import argparse
import json

from orchestrator.commands.common import EXIT_FAILED, finish, load, session
from orchestrator.reconcile.drift import differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.report.drift_text import render_drift
from orchestrator.report.style import stdout_style

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_drift, args)


def _drift(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    index = loaded.state_index(args.state)
    state = loaded.scenario.states[index].name
    with session(args, loaded, infra_code=EXIT_FAILED) as ctx:
        ctx.planning = True
        found = [d for pair in observe_all(ctx, loaded.desired[index]) for d in differences(pair)]
    if args.output == "json":
        print(json.dumps({"format_version": FORMAT_VERSION, "scenario": loaded.scenario.name, "state": state,
                          "in_sync": not found, "differences": [d.as_json() for d in found]}, indent=2, default=str))
    else:
        print(render_drift(state, found, stdout_style(args.no_color)))
    return 2 if found else 0
