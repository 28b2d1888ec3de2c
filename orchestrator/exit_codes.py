"""Every exit code orchestrate returns, as one enum, and what each means for each command.

`plan` and `drift` follow Terraform's `-detailed-exitcode` (Terraform documentation, "Command:
plan": "0 = Succeeded with empty diff (no changes), 1 = Error, 2 = Succeeded with non-empty diff
(changes present)"): any error, invalid input included, is 1 there, so that 2 means changes and
nothing else. Every other command keeps 2 for invalid input, as argparse does for bad usage.
Stdlib only: `cli.py` imports it before any command."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class ExitCode(enum.IntEnum):
    """The process's exit status. CHANGES and ERROR are aliases (the same numbers as INVALID and
    FAILED): the command decides which one its number means (`MEANINGS`)."""

    OK = 0
    FAILED = 1  # an expectation failed, a score below --min-score
    INVALID = 2  # invalid input or usage; nothing was done
    INFRA = 3  # the backend failed: unreachable, a reconcile refused, a conflict, a scenario errored
    INTERRUPTED = 130  # 128 + SIGINT, after the same cleanup as a normal exit
    TERMINATED = 143  # 128 + SIGTERM, likewise
    ERROR = 1  # plan and drift: any error, invalid input included (Terraform's 1)
    CHANGES = 2  # plan: changes pending; drift: the world differs (Terraform's 2)


#: The commands whose exit codes are Terraform's `-detailed-exitcode`: invalid input is ERROR.
DETAILED = frozenset({"plan", "drift"})

_STOPPED = {ExitCode.INTERRUPTED: "interrupted by SIGINT", ExitCode.TERMINATED: "terminated by SIGTERM"}
_PROVED = {ExitCode.OK: "every expectation met", ExitCode.FAILED: "an expectation failed",
           ExitCode.INVALID: "invalid input", ExitCode.INFRA: "infrastructure error"}
_DETAILED_ERROR = "error (invalid input, unknown state, backend unreadable)"


def _stoppable(meanings: dict[ExitCode, str]) -> Mapping[ExitCode, str]:
    return MappingProxyType(meanings | _STOPPED)


#: Per command, each exit code it can return and what it means there (for help texts and README).
MEANINGS: Mapping[str, Mapping[ExitCode, str]] = MappingProxyType({
    "validate": _stoppable({ExitCode.OK: "every file valid", ExitCode.INVALID: "a file is invalid"}),
    "schema": _stoppable({ExitCode.OK: "printed or written", ExitCode.INVALID: "an -o path that cannot be written"}),
    "simulate": _stoppable({ExitCode.OK: "decided", ExitCode.INVALID: "malformed input"}),
    "plan": _stoppable({ExitCode.OK: "no changes (the world is in the last state, where apply leaves it)",
                        ExitCode.ERROR: _DETAILED_ERROR, ExitCode.CHANGES: "changes"}),
    "apply": _stoppable(_PROVED),
    "run": _stoppable(_PROVED),
    "drift": _stoppable({ExitCode.OK: "in sync", ExitCode.ERROR: _DETAILED_ERROR,
                         ExitCode.CHANGES: "drift (properties or access)"}),
    "destroy": _stoppable({ExitCode.OK: "destroyed", ExitCode.INVALID: "invalid input",
                           ExitCode.INFRA: "infrastructure error"}),
    "serve": MappingProxyType({ExitCode.OK: "stopped by SIGINT or SIGTERM", ExitCode.INVALID: "invalid option",
                               ExitCode.INFRA: "cannot serve"}),
    "matrix": _stoppable({ExitCode.OK: "every scenario passed", ExitCode.FAILED: "a scenario failed",
                          ExitCode.INVALID: "invalid input", ExitCode.INFRA: "a scenario errored"}),
    "import": _stoppable({ExitCode.OK: "written", ExitCode.FAILED: "the imported scenario does not validate (a bug)",
                          ExitCode.INVALID: "unreadable, too large or not CloudFormation, a parameter it cannot"
                                            " take, or an unwritable path"}),
    "export": _stoppable({ExitCode.OK: "written", ExitCode.INVALID: "invalid file, unknown state or unwritable path"}),
    "access": _stoppable({ExitCode.OK: "written", ExitCode.FAILED: "backend unreadable (--observed)",
                          ExitCode.INVALID: "invalid file, unknown state or unwritable path"}),
    "findings": _stoppable({ExitCode.OK: "no finding", ExitCode.FAILED: "a finding (access from outside, new access,"
                                                                      " or undecided), unless --exit-zero",
                            ExitCode.INVALID: "invalid file, unknown state or unwritable path"}),
    "mutate": _stoppable({ExitCode.OK: "score reached", ExitCode.FAILED: "score below --min-score",
                          ExitCode.INVALID: "invalid file or option"}),
    "completion": _stoppable({ExitCode.OK: "printed", ExitCode.INVALID: "unknown shell"}),
})


def invalid_input(command: str) -> ExitCode:
    """The code for invalid input or usage of `command`: ERROR for plan and drift, else INVALID."""
    return ExitCode.ERROR if command in DETAILED else ExitCode.INVALID


def describe(command: str) -> str:
    """`0 in sync, 1 error (...), 2 drift (...)`: a command's exit codes in words, in order."""
    return ", ".join(f"{int(code)} {words}" for code, words in sorted(MEANINGS[command].items()))
