"""`orchestrate access FILE [--state NAME] [--output text|json|markdown|html] [-o PATH] [--observed]
[--named-only]`: who can do what, per policy state, and what changed between states
(orchestrator/analysis/access.py); below the named principals, a row per class of principals nobody
named (analysis/access_classes.py), decided by the symbolic engine, unless --named-only.

From the desired state with the engine: no AWS call, no backend. `--observed` computes it from
the world as read from the backend (the target options choose which), as `drift` reads it.
Exit 0 written; 2 for a bad file, an unknown state or an unwritable output path; with
`--observed`, 1 when the backend cannot be read (as plan and drift)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from orchestrator.commands.common import finish, load, output

FORMAT_VERSION = "1"


def run(args: argparse.Namespace) -> int:
    return finish(_access, args)


def _access(args: argparse.Namespace) -> int:
    from orchestrator.report.access_json import matrix_json

    if args.output_path not in (None, "-"):
        output(args, args.output_path, "the access matrix").check()  # before the matrix is computed
    loaded = load(args.file)
    indices = [loaded.state_index(args.state)] if args.state else list(range(len(loaded.scenario.states)))
    classes = not getattr(args, "named_only", False)
    matrix, source = ((_observed(args, loaded, indices, classes), "observed") if args.observed
                      else (_desired(loaded, indices, classes), "desired"))
    data = {"format_version": FORMAT_VERSION, **matrix_json(matrix, source)}
    if args.output == "json":
        _emit(args, lambda stream: write_json(data, stream))
    else:
        text = render(data, args.output)
        _emit(args, lambda stream: stream.write(text))
    return 0


#: Above this many cells the JSON is written compact: indenting 300,000 cells triples the time
#: to write them and the size (263 MB against 188 MB), for no reader's benefit at that size.
INDENT_UP_TO = 20_000


def write_json(data: dict[str, Any], stream: TextIO) -> None:
    """Streamed (json.dump writes as it goes: no copy of the whole document in memory)."""
    json.dump(data, stream, indent=2 if data["cell_count"] <= INDENT_UP_TO else None)
    stream.write("\n")


def _desired(loaded: Any, indices: list[int], classes: bool) -> Any:
    from orchestrator.analysis.access import access_matrix

    states = loaded.scenario.states
    return access_matrix(loaded.scenario.name, loaded.scenario.region, [loaded.desired[i] for i in indices],
                         [states[i].name for i in indices], [states[i].expectations for i in indices], classes)


def _observed(args: argparse.Namespace, loaded: Any, indices: list[int], classes: bool) -> Any:
    from orchestrator.analysis.observed import observed_matrix
    from orchestrator.commands.common import session
    from orchestrator.exit_codes import ExitCode

    with session(args, loaded, infra_code=ExitCode.FAILED) as ctx:
        return observed_matrix(ctx, loaded, indices, classes)


def render(data: dict[str, Any], output: str) -> str:
    """text, markdown or html (JSON is streamed: write_json)."""
    if output == "html":
        from orchestrator.report.access_html import render_html

        return render_html(data)
    from orchestrator.report.access_text import render_markdown, render_text

    return render_markdown(data) if output == "markdown" else render_text(data)


def _emit(args: argparse.Namespace, write: Callable[[TextIO], object]) -> None:
    if args.output_path in (None, "-"):
        try:
            write(sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has what it wanted (Python docs, "Note on SIGPIPE")
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    output(args, args.output_path, "the access matrix").write(write)  # whole or not at all
