"""Command-line options shared by the reconciling commands (kept light: the parser imports it)."""

from __future__ import annotations

import argparse

#: no-color.org: NO_COLOR "present and not an empty string" turns colour off (report/style.py).
NO_COLOR_HELP = "no colour (also when NO_COLOR is set to a non-empty value)"


def seconds(text: str) -> float:
    """A positive number of seconds (argparse reports anything else as a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 3600, got {text!r}")
    return value


def profile_for(text: str) -> tuple[str, str]:
    """`NAME=PROFILE`: the AWS profile whose credentials act in the scenario's account NAME."""
    name, sep, profile = text.partition("=")
    if not sep or not name.strip() or not profile.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=PROFILE (an account of the scenario's `accounts:`"
                                         f" and an AWS profile), got {text!r}")
    return name.strip(), profile.strip()


class ProfilesFor(argparse.Action):
    """Collects repeated --profile-for into {NAME: PROFILE}; one account given twice is a usage error."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        name, profile = values  # type: ignore[misc]
        chosen: dict[str, str] = dict(getattr(namespace, self.dest, None) or {})
        if name in chosen and chosen[name] != profile:
            parser.error(f"argument --profile-for: account {name!r} given twice ({chosen[name]!r} and {profile!r})")
        chosen[name] = profile
        setattr(namespace, self.dest, chosen)


def add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where to act")
    group.add_argument("--target", choices=["embedded", "aws"], default="embedded", help="embedded moto (default) or real AWS")
    group.add_argument("--endpoint-url", help="an AWS-compatible endpoint (orchestrate serve, moto, LocalStack); also AWS_ENDPOINT_URL")
    group.add_argument("--profile", help="AWS profile for --target aws")
    group.add_argument("--profile-for", type=profile_for, action=ProfilesFor, default={}, metavar="NAME=PROFILE",
                       help="with --target aws: the AWS profile for the scenario's account NAME (of `accounts:`);"
                            " repeatable, one per account")
    group.add_argument("--region", help="overrides the scenario's region")
    group.add_argument("--account", help="the account id real AWS must have (overrides the scenario's `account`)")
    group.add_argument("--run-id", help="prefix for physical names, so parallel runs do not collide")
    group.add_argument("--adopt", action="store_true", help="take over same-named resources the scenario does not own")
    group.add_argument("--timeout", type=seconds, metavar="SECONDS",
                       help="how long each call waits for an answer (default: 6 for endpoints, with 2 attempts, 3 for the"
                            " start-up identity check; "
                            "60 for real AWS, with 3); connecting waits at most 5 (10 on AWS)")


def workers(text: str) -> int:
    """--parallel: a whole number from 1 to 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"expected 1 to 64, got {text!r}")
    return value


def add_proof_options(parser: argparse.ArgumentParser) -> None:
    """How apply and run prove expectations (orchestrator/prove/runner.py)."""
    group = parser.add_argument_group("proving")
    group.add_argument("--parallel", type=workers, metavar="N",
                       help="prove up to N expectations of a state at once, each with its own settle loop, on an"
                            " endpoint and on real AWS (default: 32; the embedded backend proves one at a time)")
    group.add_argument("--eventually-consistent", action="store_true",
                       help="on an endpoint: let outcomes settle as on real AWS (on by itself against"
                            " `orchestrate serve --propagation-delay`, which says so in every answer)")
    group.add_argument("--no-enforcement-check", action="store_true",
                       help="on an endpoint: skip the check, made before anything is applied, that a user with no"
                            " policy is denied a read (an endpoint that enforces no IAM is refused, exit 3)")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--no-color", action="store_true", help=NO_COLOR_HELP)


def add_output_file(parser: argparse.ArgumentParser, help: str, *old_spellings: str) -> None:
    """`-o/--output-file PATH`, spelled alike by every command that writes a file (a command's
    older spellings still parse, hidden from its help)."""
    action = parser.add_argument("-o", "--output-file", dest="output_path", metavar="PATH", help=help)
    action.complete = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}  # type: ignore[attr-defined]
    if old_spellings:
        parser.add_argument(*old_spellings, dest="output_path", metavar="PATH", help=argparse.SUPPRESS)


def add_follow_symlinks(parser: argparse.ArgumentParser) -> None:
    """The output file's link policy (orchestrator/report/output.py)."""
    parser.add_argument("--follow-symlinks", action="store_true",
                        help="write through an output path that is a symbolic link to a file outside its folder"
                             " (refused by default; a dangling link is always refused)")
