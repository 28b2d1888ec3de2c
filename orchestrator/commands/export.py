"""`orchestrate export FILE --format cloudformation|terraform [--state NAME] [-o PATH]`: the
desired state of one policy state (default: the last, as drift) as a template a user deploys on
its own (orchestrator/export/). Exit 0 written, 2 for a bad file, an unknown state or an
unwritable output path; what the format leaves out is in the template's comment block, and a
one-line count on standard error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestrator.commands.common import EXIT_INVALID, CommandError, finish, load


def run(args: argparse.Namespace) -> int:
    return finish(_export, args)


def _export(args: argparse.Namespace) -> int:
    from orchestrator.export import export_state

    loaded = load(args.file)
    index = loaded.state_index(args.state)  # ScenarioError (exit 2, located) for an unknown state
    exported = export_state(loaded, index, args.format)
    if args.output_path in (None, "-"):
        sys.stdout.write(exported.text)
    else:
        _write(Path(args.output_path), exported.text)
    if exported.notes:
        print(f"{args.format}: {len(exported.notes)} thing(s) left out, named in the comment block at the top",
              file=sys.stderr)
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{path}: cannot write the template: {error.strerror or error}", EXIT_INVALID) from None
