"""Command-line parsing only; each command lives in `orchestrator.commands` and is imported lazily
so that light commands (`simulate`, `schema`) do not pay for boto3 and moto."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.commands.signals import Stops

EXIT_INVALID = 2
#: Commands that never build a scenario model: they skip pydantic's ~70 ms of start-up.
_WITHOUT_MODELS = frozenset({"simulate"})


def _common_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--no-color", action="store_true", help="no colour (NO_COLOR is honoured too)")


def _add_validate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("validate", help="check scenario files without touching AWS")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    _common_output(parser)
    parser.set_defaults(command="validate")


def _add_schema(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("schema", help="print the scenario JSON Schema")
    parser.set_defaults(command="schema")


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="decide SimulateCustomPolicy-shaped requests (one JSON document or JSON Lines) with the engine",
    )
    parser.add_argument("file", nargs="?", default="-", help="input file, or - for standard input")
    parser.set_defaults(command="simulate")


def _add_reconciling(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import (add_follow_symlinks, add_output_options, add_proof_options,
                                               add_target_options)

    helps = {
        "plan": "show the walk apply would make, state by state (exit 0 the world is in the last state, 2 changes, 1 error)",
        "apply": "reconcile AWS to each policy state in order",
        "drift": "compare the world with a state, read-only (exit 0 in sync, 2 drift, 1 error)",
        "destroy": "remove everything the scenario owns",
        "run": "apply, then destroy (also when apply fails)",
    }
    for name, text in helps.items():
        parser = commands.add_parser(name, help=text)
        parser.add_argument("file", metavar="FILE", help="scenario file")
        if name != "destroy":
            parser.add_argument("--state", help="the policy state (plan: that state alone, default: the whole walk; drift: default last; apply: stop after it)")
        if name in ("apply", "run"):
            parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
            add_follow_symlinks(parser)
            add_proof_options(parser)
            parser.add_argument("--quiet", action="store_true", help="no progress lines: print only the report")
        add_target_options(parser)
        add_output_options(parser)
        parser.set_defaults(command="apply" if name == "run" else name, destroy_after=name == "run")


def _add_serve(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run the embedded backend as a local AWS endpoint")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=4566, help="port (default: 4566; 0 picks a free one)")
    parser.add_argument("--region", default="us-east-1", help="region the gate assumes (default: us-east-1)")
    parser.add_argument("--verbose", action="store_true",
                        help="log each request on stderr: principal, action, resources, decision and deciding layer,"
                             " status, milliseconds")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="with --verbose: a line of text, or one JSON object a line (default: text)")
    parser.add_argument("--propagation-delay", type=_lag_seconds, default=0.0, metavar="SECONDS",
                        help="authorization changes (policies, membership, boundaries, trust, key policies, grants,"
                             " key state) take effect for the gate only after SECONDS, as AWS's eventual consistency"
                             " does; reads show them at once (default: 0, off)")
    parser.add_argument("--propagation-jitter", type=_lag_seconds, default=0.0, metavar="SECONDS",
                        help="plus a uniform random delay in [0, SECONDS] per change (default: 0)")
    parser.add_argument("--table-key-cache", type=_lag_seconds, default=0.0, metavar="SECONDS",
                        help="DynamoDB's table key cache: a change to a table's KMS key reaches the table's calls"
                             " only after SECONDS (AWS: 5 minutes; default: 0)")
    parser.add_argument("--admin-key", type=_admin_key, action="append", default=[], metavar="ID:SECRET",
                        help="also take these credentials as orchestrate's own identity (repeatable; besides"
                             " orchestrate's default endpoint credentials and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                             " of serve's environment); any other key must be one moto holds, validly signed")
    parser.add_argument("--any-key-as-admin", action="store_true",
                        help="take any access key moto does not hold (a deleted one too) as orchestrate's own"
                             " identity, unverified, as LocalStack does (default: refused, InvalidClientTokenId)")
    parser.set_defaults(command="serve")


def _admin_key(text: str) -> tuple[str, str]:
    """`--admin-key ID:SECRET`; the usage error never repeats the secret."""
    from orchestrator.authz.gate.authenticate import parse_admin_key

    try:
        return parse_admin_key(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _lag_seconds(text: str) -> float:
    """Seconds of lag for `serve`: 0 (off) or what options.seconds takes."""
    from orchestrator.commands.options import seconds

    try:
        if float(text) == 0:
            return 0.0
    except ValueError:
        pass  # seconds() words the usage error
    return seconds(text)


def _add_matrix(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_target_options

    parser = commands.add_parser("matrix", help="run many scenarios in parallel, sharded, aggregated for CI")
    parser.add_argument("paths", nargs="*", default=["scenarios"], metavar="PATH", help="scenario files or folders (default: scenarios)")
    parser.add_argument("--jobs", type=int, help="worker processes (default: the number of CPUs)")
    parser.add_argument("--shard", metavar="I/N", help="run only shard I of N (deterministic, balanced by expected cost)")
    parser.add_argument("--list", action="store_true", help="print the shards instead of running (with --output github: a strategy.matrix JSON)")
    parser.add_argument("--shards", type=int, help="with --list: how many shards (default: N of --shard, else 1)")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML: one testsuite per scenario")
    add_follow_symlinks(parser)
    parser.add_argument("--output", choices=["text", "json", "markdown", "github"], default="text")
    parser.add_argument("--mutate", action="store_true", help="add each scenario's mutation score (orchestrate mutate, offline)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines: print only the report")
    add_target_options(parser)
    parser.set_defaults(command="matrix")


def _follow_symlinks(parser: argparse.ArgumentParser) -> None:
    from orchestrator.commands.options import add_follow_symlinks

    add_follow_symlinks(parser)


def _add_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("import", help="a CloudFormation template as a scenario, expectations proposed by the engine")
    parser.add_argument("template", metavar="TEMPLATE", help="CloudFormation template (YAML or JSON)")
    parser.add_argument("-o", "--out", metavar="FILE", help="write the scenario here (default: standard output)")
    _follow_symlinks(parser)
    parser.add_argument("--region", default="us-east-1", help="the scenario's region (default: us-east-1)")
    parser.add_argument("--max-bytes", type=int, metavar="N",
                        help="refuse a larger template before reading it (default: 5 MiB; CloudFormation takes 1 MB from S3)")
    parser.set_defaults(command="import_")


def _add_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help="a policy state as a CloudFormation template or Terraform configuration")
    parser.add_argument("file", metavar="FILE", help="scenario file")
    parser.add_argument("--format", choices=["cloudformation", "terraform"], required=True, help="the template format")
    parser.add_argument("--state", help="the policy state to export (default: the last)")
    parser.add_argument("-o", dest="output_path", metavar="PATH", help="write the template here (default: standard output)")
    _follow_symlinks(parser)
    parser.set_defaults(command="export")


def _add_access(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_target_options

    parser = commands.add_parser("access", help="who can do what in each policy state, and what changed (the engine's access matrix)")
    parser.add_argument("file", metavar="FILE", help="scenario file")
    parser.add_argument("--state", help="this policy state only (default: every state)")
    parser.add_argument("--output", choices=["text", "json", "markdown", "html"], default="text", help="output format (default: text)")
    parser.add_argument("-o", dest="output_path", metavar="PATH", help="write it here (default: standard output)")
    add_follow_symlinks(parser)
    parser.add_argument("--observed", action="store_true",
                        help="from the world as read from the backend (the options below), not from the desired state")
    add_target_options(parser)
    parser.set_defaults(command="access")


def _add_mutate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("mutate", help="mutation testing of a scenario's expectations (exit 1 below --min-score)")
    parser.add_argument("file", metavar="FILE", help="scenario file")
    parser.add_argument("--min-score", type=float, default=0.0, metavar="S", help="exit 1 when the mutation score is below S (0..1)")
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--embedded", action="store_true", help="run each mutant on the embedded backend for certainty (slow)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr: print only the report")
    parser.set_defaults(command="mutate")


BUILDERS = [_add_validate, _add_schema, _add_simulate, _add_reconciling, _add_serve, _add_matrix, _add_import,
            _add_export, _add_access, _add_mutate]


class _Version(argparse.Action):
    """``--version``, the package's version read only when asked (importlib.metadata costs a light
    command such as `simulate` ~20 ms of start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"orchestrate {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("orchestrate")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestrate",
        description="Prove data-layer access controls (KMS key policies, DynamoDB, IAM) with scenarios.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(metavar="COMMAND", required=True)
    for builder in BUILDERS:
        builder(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. SIGTERM and SIGINT are handled from its first line (signals.py: a
    stdlib-only import), so a stop during start-up exits 143 or 130 as one during the work does."""
    from orchestrator.commands.signals import raising_on_stop, stopped_by

    with raising_on_stop() as stops:  # SIGTERM and SIGINT clean up as an error would, then 143 or 130
        try:
            return _run(argv, stops)
        except BaseException as error:  # KeyboardInterrupt, Terminated, or a library's error wrapping one
            stopped = stopped_by(error)
            if stopped is None:
                raise
            return _stopped(stopped)


def _run(argv: Sequence[str] | None, stops: Stops) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on bad usage, as we want
        return int(exit_.code or 0)
    with stops.held():  # pydantic, building the validators, would wrap a stop in its SchemaError unchained
        module = importlib.import_module(f"orchestrator.commands.{args.command}")
        if args.command not in _WITHOUT_MODELS:
            importlib.import_module("orchestrator.model.scenario")
    return int(module.run(args))


def _stopped(stopped: BaseException) -> int:
    """`terminated` or `interrupted`, then what the command left unfinished and how to clean it
    up, as the layer that knew said it (signals.leave_word); 128 + the signal."""
    from orchestrator.commands.signals import Terminated, exit_code, left_words

    print("terminated" if isinstance(stopped, Terminated) else "interrupted", file=sys.stderr)
    for words in left_words(stopped) or ["nothing was left to clean up: it had made no change to any AWS world"]:
        print(words, file=sys.stderr)
    return exit_code(stopped)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
