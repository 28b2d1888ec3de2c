"""`orchestrate serve [--host 127.0.0.1] [--port 4566] [--verbose]`."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from orchestrator.backends.serve import serve

    try:
        return serve(args.host, args.port, args.region, args.verbose)
    except OSError as error:
        print(f"orchestrate serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 3
