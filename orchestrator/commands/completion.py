"""`orchestrate completion bash|zsh|tcsh`: a completion script generated from the parser by shtab
(iterative/shtab: a static script, so a completion costs the shell nothing of Python's start-up,
unlike argcomplete, which runs the program on every Tab). shtab is imported here only, never by
the parser (tests/test_lean_start.py)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    import shtab

    from orchestrator.cli import build_parser

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return 0
