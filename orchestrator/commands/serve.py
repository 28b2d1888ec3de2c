"""`orchestrate serve [--host 127.0.0.1] [--port 4566] [--verbose] [--propagation-delay SECONDS]
[--propagation-jitter SECONDS] [--table-key-cache SECONDS]`."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from orchestrator.authz.gate.propagation import Propagation
    from orchestrator.backends.serve import serve

    propagation = Propagation(getattr(args, "propagation_delay", 0.0) or 0.0,
                              getattr(args, "propagation_jitter", 0.0) or 0.0,
                              getattr(args, "table_key_cache", 0.0) or 0.0)
    try:
        return serve(args.host, args.port, args.region, args.verbose, propagation)
    except OSError as error:
        print(f"orchestrate serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 3
