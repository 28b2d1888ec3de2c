"""`orchestrate drift FILE [--state NAME]`: read-only comparison of desired and actual.
Exit 0 in sync, 2 drift, 1 error. By default it compares against the last state.

Two sections: the property differences (CloudFormation's drift vocabulary), and the access
differences: the state's access matrix decided on the desired state against the same matrix
decided on the world as read (orchestrator/analysis/observed.py), one per cell that differs.
The report widens access when a cell is gained."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from orchestrator.commands.common import finish, load, session
from orchestrator.exit_codes import ExitCode
from orchestrator.reconcile.drift import AccessDifference, Difference, access_differences, differences
from orchestrator.reconcile.observe import observe_all
from orchestrator.report.drift_text import render_drift
from orchestrator.report.style import stdout_style

if TYPE_CHECKING:
    from orchestrator.model.scenario import DesiredState, Expectation
    from orchestrator.resources.context import RunContext

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_drift, args)


def _drift(args: argparse.Namespace) -> int:
    loaded = load(args.file)
    index = loaded.state_index(args.state)
    state = loaded.scenario.states[index].name
    with session(args, loaded, infra_code=ExitCode.ERROR) as ctx:
        found, access = drift_of(ctx, loaded.desired[index], state, loaded.scenario.states[index].expectations)
    widened = any(d.widens_access for d in access)
    if args.output == "json":
        from orchestrator.report.drift_json import access_difference_json

        print(json.dumps({"format_version": FORMAT_VERSION, "scenario": loaded.scenario.name, "state": state,
                          "in_sync": not found and not access, "differences": [d.as_json() for d in found],
                          "access": [access_difference_json(d) for d in access], "widens_access": widened}, indent=2, default=str))
    else:
        print(render_drift(state, found, stdout_style(args.no_color), access))
    return ExitCode.CHANGES if found or access else ExitCode.OK


def drift_of(ctx: RunContext, desired: DesiredState, state: str,
             expectations: Iterable[Expectation] = ()) -> tuple[list[Difference], list[AccessDifference]]:
    """The property differences and the access differences of one state, from one reading (the
    desired matrix after it, so that both resolve references to the ARNs the world holds)."""
    from orchestrator.analysis.access_classes import Decisions
    from orchestrator.analysis.observed import desired_state_matrix, observed_state_matrix

    pairs = list(observe_all(ctx, desired, observed_only=True))
    found = [d for pair in pairs for d in differences(pair)]
    expectations = list(expectations)
    decisions = Decisions()  # a resource the world holds as desired is asked about once for both
    wanted = desired_state_matrix(ctx, desired, state, expectations, decisions)
    actual = observed_state_matrix(ctx, desired, state, expectations, pairs, decisions)
    return found, access_differences(wanted, actual)
