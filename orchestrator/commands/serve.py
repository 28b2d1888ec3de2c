"""`orchestrate serve [--host 127.0.0.1] [--port 4566] [--verbose [--log-format text|json]] [--propagation-delay SECONDS]
[--propagation-jitter SECONDS] [--table-key-cache SECONDS] [--admin-key ID:SECRET ...] [--any-key-as-admin]`."""

from __future__ import annotations

import argparse
import sys

from orchestrator.exit_codes import ExitCode


def run(args: argparse.Namespace) -> int:
    from orchestrator.authz.gate.authenticate import ENDPOINT_ADMIN, AdminKeys
    from orchestrator.authz.gate.propagation import Propagation
    from orchestrator.backends.serve import serve

    propagation = Propagation(getattr(args, "propagation_delay", 0.0) or 0.0,
                              getattr(args, "propagation_jitter", 0.0) or 0.0,
                              getattr(args, "table_key_cache", 0.0) or 0.0)
    admins = AdminKeys((ENDPOINT_ADMIN, *(getattr(args, "admin_key", None) or ())),
                       any_key=bool(getattr(args, "any_key_as_admin", False)))
    try:
        return serve(args.host, args.port, args.region, args.verbose, propagation, admins,
                     getattr(args, "log_format", "text"))
    except OSError as error:
        print(f"orchestrate serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return ExitCode.INFRA
