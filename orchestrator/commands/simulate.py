"""`orchestrate simulate [FILE|-]`: SimulateCustomPolicy-shaped decisions from the engine."""

from __future__ import annotations

import argparse
import sys

from orchestrator.exit_codes import ExitCode


def run(args: argparse.Namespace) -> int:
    from orchestrator.authz.simulate import run as simulate

    if args.file == "-":
        return simulate(sys.stdin, sys.stdout, sys.stderr, source_name="<stdin>")
    try:
        with open(args.file, encoding="utf-8") as stream:
            return simulate(stream, sys.stdout, sys.stderr, source_name=args.file)
    except OSError as error:
        print(f"{args.file}: cannot read the file: {error.strerror or error}", file=sys.stderr)
        return ExitCode.INVALID
