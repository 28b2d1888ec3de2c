"""`orchestrate export FILE --format cloudformation|terraform [--state NAME] [-o PATH]`: the
desired state of one policy state (default: the last, as drift) as a template a user deploys on
its own (orchestrator/export/). Exit 0 written, 2 for a bad file, an unknown state or an
unwritable output path (checked before the export; written whole or not at all, links leaving
their folder refused without --follow-symlinks: orchestrator/report/output.py); what the format
leaves out is in the template's comment block, and a one-line count on standard error."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands.common import finish, load, output
from orchestrator.report.words import counted


def run(args: argparse.Namespace) -> int:
    return finish(_export, args)


def _export(args: argparse.Namespace) -> int:
    from orchestrator.export import export_state

    target = None if args.output_path in (None, "-") else output(args, args.output_path, "the template")
    if target is not None:
        target.check()  # a path that cannot be written is refused before anything is made
    loaded = load(args.file)
    index = loaded.state_index(args.state)  # ScenarioError (exit 2, located) for an unknown state
    exported = export_state(loaded, index, args.format)
    if target is None:
        sys.stdout.write(exported.text)
    else:
        target.write_text(exported.text)
    if exported.notes:
        print(f"{args.format}: {counted(len(exported.notes), 'thing')} left out, named in the comment block at the top",
              file=sys.stderr)
    return 0

