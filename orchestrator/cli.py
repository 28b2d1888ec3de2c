"""Command-line parsing only; each command lives in `orchestrator.commands` and is imported lazily
so that light commands (`simulate`, `schema`) do not pay for boto3 and moto."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from orchestrator.constants import DEFAULT_REGION  # stdlib only: no start-up cost
from orchestrator.exit_codes import MEANINGS, ExitCode, describe  # stdlib only: no start-up cost

if TYPE_CHECKING:
    from orchestrator.commands.signals import Stops

#: Commands that never build a scenario model: they skip pydantic's ~70 ms of start-up.
_WITHOUT_MODELS = frozenset({"simulate", "completion"})
SEED = "scenarios/kms-dynamodb-access.yaml"
#: Every command's exit codes as its --help prints them, in words from exit_codes.MEANINGS (one
#: ExitCode everywhere; README's command reference says exactly the same).
EXIT_CODES = {name: describe(name) for name in MEANINGS}


class Parser(argparse.ArgumentParser):
    """argparse with suggestions for a mistyped command or option ("Did you mean 'apply'?"), as
    Python 3.12's `suggest_on_error` gives; we run 3.11, hence difflib here. Unknown options are
    refused by the command's own parser, which knows its options (argparse leaves them to the
    top parser, which does not)."""

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        unknown = [extra for extra in extras if extra.startswith("-") and extra != "-"]
        if unknown:
            self._unknown(unknown[0].split("=", 1)[0], "option",
                          [o for action in self._actions if action.help != argparse.SUPPRESS for o in action.option_strings])
        return parsed, extras

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        choice = _INVALID_CHOICE.search(message)
        if choice is not None and message.startswith("argument COMMAND:"):
            self._unknown(choice.group(1), "command", _QUOTED.findall(choice.group(2)))
        if choice is not None:
            message += "." + _did_you_mean(choice.group(1), _QUOTED.findall(choice.group(2)))
        super().error(message)

    def _unknown(self, given: str, kind: str, known: list[str]) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.INVALID, f"{self.prog}: unknown {kind} {given!r}.{_did_you_mean(given, known)}\n")


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")
_QUOTED = re.compile(r"'([^']*)'")


def _did_you_mean(given: str, known: list[str]) -> str:
    from difflib import get_close_matches  # only on a mistake: difflib is no start-up cost

    close = get_close_matches(given, known, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else f" Choose from {', '.join(known)}."


def _command(commands: argparse._SubParsersAction, name: str, summary: str, description: str,
             example: str) -> argparse.ArgumentParser:
    """A command's parser: `summary` for the command list; its --help adds the description, its
    exit codes and one example."""
    epilog = (f"exit codes:\n{textwrap.fill(EXIT_CODES[name], 78, initial_indent='  ', subsequent_indent='  ')}\n"
              f"\nexample:\n  {example}\n")
    parser = commands.add_parser(name, help=summary, description=textwrap.fill(description, 78), epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _path(action: argparse.Action) -> argparse.Action:
    """Completes as a file name (shtab reads `complete`; its FILE, without importing shtab)."""
    action.complete = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}  # type: ignore[attr-defined]
    return action


def _common_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    from orchestrator.commands.options import NO_COLOR_HELP

    parser.add_argument("--no-color", action="store_true", help=NO_COLOR_HELP)


def _add_validate(commands: argparse._SubParsersAction) -> None:
    parser = _command(commands, "validate", "check scenario files without touching AWS",
                      "Check scenario files (or every scenario in folders) without touching AWS: every problem"
                      " in a file at once, one located line each (file:line:col: message (at path)).",
                      "orchestrate validate scenarios/ --output json")
    _path(parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders"))
    _common_output(parser)
    parser.set_defaults(command="validate")


def _add_schema(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_output_file

    parser = _command(commands, "schema", "print the scenario JSON Schema",
                      "Print the JSON Schema of scenario files, generated from the models (the one shipped in"
                      " schemas/scenario.schema.json), for editors and other validators.",
                      "orchestrate schema -o scenario.schema.json")
    add_output_file(parser, "write the schema here (default: standard output)")
    add_follow_symlinks(parser)
    parser.set_defaults(command="schema")


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    parser = _command(commands, "simulate",
                      "decide SimulateCustomPolicy-shaped requests (one JSON document or JSON Lines) with the engine",
                      "Decide requests shaped as `aws iam simulate-custom-policy` input (one JSON document, or"
                      " JSON Lines, one request a line) with orchestrate's policy engine, offline; each result"
                      " adds OrchestrateReason, the engine's reason in words, and OrchestrateLayer, the layer that"
                      " decided. Extension fields give SCPs and RCPs per level, a session policy, a VPC endpoint and"
                      " an anonymous or service-principal caller (README, \"simulate\").",
                      "orchestrate simulate requests.jsonl")
    _path(parser.add_argument("file", nargs="?", default="-", help="input file, or - for standard input"))
    parser.set_defaults(command="simulate")


def _add_reconciling(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import (add_follow_symlinks, add_output_options, add_proof_options,
                                               add_target_options)

    helps = {
        "plan": ("show the walk apply would make, state by state",
                 "Show the walk apply would make: the first policy state from the world as it is, each later"
                 " state from the one before, a summary per state and the state the world is in (+ create,"
                 " ~ update, - delete, -/+ replace, ! conflict). Read-only.",
                 f"orchestrate plan {SEED} --state with-key-grant"),
        "apply": ("reconcile AWS to each policy state in order",
                  "Reconcile AWS (the embedded backend by default) to each policy state in order and prove its"
                  " expectations by calling AWS as each principal; a second apply makes no mutating call.",
                  f"orchestrate apply {SEED} --junit junit.xml"),
        "drift": ("compare the world with a state, read-only",
                  "Compare the world with a policy state (default: the last), read-only: each difference as"
                  " resource, property path, expected, actual and kind, those that widen access flagged, then"
                  " the access matrix's cells that differ.",
                  f"orchestrate drift {SEED} --endpoint-url http://127.0.0.1:4566"),
        "destroy": ("remove everything the scenario owns",
                    "Remove everything the scenario owns: access keys first; KMS keys are scheduled for deletion"
                    " with the scenario's window (default 7 days).",
                    f"orchestrate destroy {SEED} --target aws --profile sandbox"),
        "run": ("apply, then destroy (also when apply fails)",
                "Apply, then destroy what the scenario owns, also when apply fails: one self-cleaning proof.",
                f"orchestrate run {SEED} --target aws --run-id ci-42"),
    }
    for name, (summary, description, example) in helps.items():
        parser = _command(commands, name, summary, description, example)
        _path(parser.add_argument("file", metavar="FILE", help="scenario file"))
        if name != "destroy":
            parser.add_argument("--state", help="the policy state (plan: that state alone, default: the whole walk; drift: default last; apply: stop after it)")
        if name in ("apply", "run"):
            _path(parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report"))
            add_follow_symlinks(parser)
            add_proof_options(parser)
            parser.add_argument("--quiet", action="store_true", help="no progress lines: print only the report")
        add_target_options(parser)
        if name != "drift":
            parser.add_argument("--manage-organization", action="store_true",
                                help="with --target aws: let apply and destroy create, change and delete the SCPs, RCPs"
                                     " and units orchestrate tags (never the organization itself, nor anything"
                                     " untagged); without it a difference from the organization is refused")
        add_output_options(parser)
        parser.set_defaults(command="apply" if name == "run" else name, destroy_after=name == "run")


def _add_serve(commands: argparse._SubParsersAction) -> None:
    parser = _command(commands, "serve", "run the embedded backend as a local AWS endpoint",
                      "Run the embedded backend (moto behind orchestrate's authorization gate) as a local AWS"
                      " endpoint for other tools and for --endpoint-url; runs until SIGINT or SIGTERM.",
                      "orchestrate serve --port 4566 --propagation-delay 2")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=4566, help="port (default: 4566; 0 picks a free one)")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"region the gate assumes (default: {DEFAULT_REGION})")
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

    parser = _command(commands, "matrix", "run many scenarios in parallel, sharded, aggregated for CI",
                      "Run many scenarios in parallel worker processes, optionally one deterministic shard of"
                      " them, and aggregate their verdicts for CI (JUnit, Markdown, GitHub annotations and the"
                      " job summary).",
                      "orchestrate matrix scenarios/ --shard 1/3 --junit junit.xml --output github")
    _path(parser.add_argument("paths", nargs="*", default=["scenarios"], metavar="PATH",
                              help="scenario files or folders (default: scenarios)"))
    parser.add_argument("--jobs", type=int, help="worker processes (default: the number of CPUs)")
    parser.add_argument("--shard", metavar="I/N", help="run only shard I of N (deterministic, balanced by expected cost)")
    parser.add_argument("--list", action="store_true", help="print the shards instead of running (with --output github: a strategy.matrix JSON)")
    parser.add_argument("--shards", type=int, help="with --list: how many shards (default: N of --shard, else 1)")
    _path(parser.add_argument("--junit", metavar="FILE", help="write JUnit XML: one testsuite per scenario"))
    add_follow_symlinks(parser)
    parser.add_argument("--output", choices=["text", "json", "markdown", "github"], default="text",
                        help="output format (default: text; github: annotations and $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--mutate", action="store_true", help="add each scenario's mutation score (orchestrate mutate, offline)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines: print only the report")
    add_target_options(parser)
    parser.set_defaults(command="matrix")


def _add_import(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_output_file

    parser = _command(commands, "import", "a CloudFormation template as a scenario, expectations proposed by the engine",
                      "Turn a CloudFormation template (YAML or JSON) into a scenario with one policy state, its"
                      " expectations proposed by the engine; resource types orchestrate does not declare are"
                      " skipped and named.",
                      "orchestrate import template.yaml -o seed.yaml")
    _path(parser.add_argument("template", metavar="TEMPLATE", help="CloudFormation template (YAML or JSON)"))
    add_output_file(parser, "write the scenario here (default: standard output)", "--out")
    add_follow_symlinks(parser)
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"the scenario's region (default: {DEFAULT_REGION})")
    parser.add_argument("--max-bytes", type=int, metavar="N",
                        help="refuse a larger template before reading it (default: 5 MiB; CloudFormation takes 1 MB from S3)")
    parser.add_argument("--parameter", action="append", metavar="NAME=VALUE",
                        help="a value for the template's parameter NAME, in place of its Default (repeatable)")
    parser.set_defaults(command="import_")


def _add_export(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_output_file

    parser = _command(commands, "export", "a policy state as a CloudFormation template or Terraform configuration",
                      "Write a policy state's desired state (default: the last) as a CloudFormation template or"
                      " a Terraform configuration, deployable on its own; what the format cannot say is named"
                      " in its comment block.",
                      f"orchestrate export {SEED} --format terraform -o main.tf")
    _path(parser.add_argument("file", metavar="FILE", help="scenario file"))
    parser.add_argument("--format", choices=["cloudformation", "terraform"], required=True, help="the template format")
    parser.add_argument("--state", help="the policy state to export (default: the last)")
    add_output_file(parser, "write the template here (default: standard output)")
    add_follow_symlinks(parser)
    parser.set_defaults(command="export")


def _add_access(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_output_file, add_target_options

    parser = _command(commands, "access", "who can do what in each policy state, and what changed (the engine's access matrix)",
                      "The engine's access matrix: each principal's decision on each (resource, action) per policy"
                      " state, with the deciding layer and statements, and the cells changed from the state"
                      " before; from the desired state, or from the world as read (--observed).",
                      f"orchestrate access {SEED} --output html -o access.html")
    _path(parser.add_argument("file", metavar="FILE", help="scenario file"))
    parser.add_argument("--state", help="this policy state only (default: every state)")
    parser.add_argument("--output", choices=["text", "json", "markdown", "html"], default="text", help="output format (default: text)")
    add_output_file(parser, "write it here (default: standard output)")
    add_follow_symlinks(parser)
    parser.add_argument("--observed", action="store_true",
                        help="from the world as read from the backend (the options below), not from the desired state")
    parser.add_argument("--named-only", action="store_true",
                        help="only the named principals' rows: no rows for anyone else (anyone in an account, in the"
                             " organization, anywhere, anonymous), which the symbolic engine decides")
    add_target_options(parser)
    parser.set_defaults(command="access")


def _add_mutate(commands: argparse._SubParsersAction) -> None:
    parser = _command(commands, "mutate", "mutation testing of a scenario's expectations",
                      "Mutation testing of a scenario's expectations: mutants of its policies that no expectation"
                      " notices survive, each shown at its file:line:col with an expectation that would kill it.",
                      f"orchestrate mutate {SEED} --min-score 0.8")
    _path(parser.add_argument("file", metavar="FILE", help="scenario file"))
    parser.add_argument("--min-score", type=float, default=0.0, metavar="S", help="exit 1 when the mutation score is below S (0..1)")
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--embedded", action="store_true", help="run each mutant on the embedded backend for certainty (slow)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr: print only the report")
    parser.set_defaults(command="mutate")


def _add_findings(commands: argparse._SubParsersAction) -> None:
    from orchestrator.commands.options import add_follow_symlinks, add_output_file

    parser = _command(commands, "findings", "who outside the account, the organization or the public can reach each resource",
                      "External-access findings, decided over every principal by the symbolic engine: per policy"
                      " state and resource (keys, tables, buckets, roles' trust), each class of principal outside"
                      " its account, outside its organization when one is declared, or the public, that can do an"
                      " action of the language on it, with the statement at its file:line:col, its conditions and"
                      " a witness the concrete engine allows; then the new access each state grants over the one"
                      " before it.",
                      f"orchestrate findings {SEED} --output sarif -o findings.sarif")
    _path(parser.add_argument("file", metavar="FILE", help="scenario file"))
    parser.add_argument("--state", help="this policy state only, and its new access over the state before it (default: every state)")
    parser.add_argument("--output", choices=["text", "json", "sarif"], default="text", help="output format (default: text)")
    add_output_file(parser, "write it here (default: standard output)")
    add_follow_symlinks(parser)
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings (CI that gates on the uploaded SARIF)")
    parser.set_defaults(command="findings")


def _add_completion(commands: argparse._SubParsersAction) -> None:
    parser = _command(commands, "completion", "print a shell completion script (bash, zsh, tcsh)",
                      "Print a completion script for the shell, generated from this parser by shtab: commands,"
                      " options and their choices, file names where a file is expected.",
                      "orchestrate completion bash > ~/.local/share/bash-completion/completions/orchestrate")
    parser.add_argument("shell", choices=["bash", "zsh", "tcsh"], help="the shell")
    parser.set_defaults(command="completion")


BUILDERS = [_add_validate, _add_schema, _add_simulate, _add_reconciling, _add_serve, _add_matrix, _add_import,
            _add_export, _add_access, _add_findings, _add_mutate, _add_completion]
#: The builder of each command's parser, so that a run builds only its own (tests/test_cli.py
#: checks it against every command that BUILDERS makes).
BUILDER_OF = {"validate": _add_validate, "schema": _add_schema, "simulate": _add_simulate,
              **{name: _add_reconciling for name in ("plan", "apply", "drift", "destroy", "run")},
              "serve": _add_serve, "matrix": _add_matrix, "import": _add_import, "export": _add_export,
              "access": _add_access, "findings": _add_findings, "mutate": _add_mutate, "completion": _add_completion}


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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; given the command a run names, only that one's (and its siblings'
    in BUILDER_OF): all of them are ~5 ms of every start, and the others never parse anything.
    A word that names no command builds them all, so that argparse can suggest one."""
    parser = Parser(
        prog="orchestrate",
        description="Prove data-layer access controls (KMS key policies, DynamoDB, IAM) with scenarios.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(metavar="COMMAND", required=True, parser_class=Parser)
    for builder in [BUILDER_OF[command]] if command in BUILDER_OF else BUILDERS:
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
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given[0] if given else None)  # `-h apply` and the like: every command
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on bad usage, as we want (plan and drift: 1)
        return _usage_code(argv, int(exit_.code or 0))
    with stops.held():  # pydantic, building the validators, would wrap a stop in its SchemaError unchained
        module = importlib.import_module(f"orchestrator.commands.{args.command}")
        if args.command not in _WITHOUT_MODELS:
            importlib.import_module("orchestrator.model.scenario")
    return int(module.run(args))


def _usage_code(argv: Sequence[str] | None, code: int) -> int:
    """argparse's 2 for bad usage, as the command's code for invalid input (exit_codes.py): the
    command is the first word, orchestrate's only options before it (-h, --version) exiting 0."""
    from orchestrator.exit_codes import ExitCode, invalid_input

    words = [word for word in (sys.argv[1:] if argv is None else argv) if not word.startswith("-")]
    return invalid_input(words[0]) if code == ExitCode.INVALID and words else code


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
