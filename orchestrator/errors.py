"""One base for every error orchestrate raises on purpose, in four families, each with its exit code.

As the loader's diagnostics (loader/diagnostics.py) are values printed all at once, an error here
is a value that knows what it is: a command catches `OrchestrateError`, prints it and asks it for
its exit code (`exit_code(command)`), instead of catching a list of types to choose one.

- `InvalidInputError`: the input or the usage is wrong, nothing was done: 2 (`ExitCode.INVALID`),
  1 for plan and drift (Terraform's `-detailed-exitcode`: `exit_codes.invalid_input`).
- `BackendFailure`: the backend or AWS failed (unreachable, refused, a conflict in the world):
  3 (`ExitCode.INFRA`). An AWS answer carries its error code and message.
- `ProofError`: an expectation could not be proved, or was not met: 1 (`ExitCode.FAILED`).
- `InternalError`: a bug of orchestrate's: 1 (`ExitCode.FAILED`, as an uncaught exception's).

A few exceptions are pure control flow, never an error a user sees (a parse that restarts, a pool
told to stop, SIGTERM): they keep their own bases, each says so, and tests/test_errors.py lists them.

`RunFailure` is the value a run carries to its report when it ended early (`RunResult.error`): its
`str` is the one line the reports print, unchanged.
Stdlib only, as exit_codes.py: any module may import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from orchestrator.exit_codes import ExitCode, invalid_input


class OrchestrateError(Exception):
    """The base of every orchestrate error; `exit_code` says how a command ends on it."""

    #: The family's exit code (for a command that is not plan or drift).
    family_exit: ClassVar[ExitCode] = ExitCode.FAILED

    def exit_code(self, command: str = "") -> ExitCode:
        return self.family_exit


class InvalidInputError(OrchestrateError):
    """Invalid input or usage (a scenario, a template, an option, an output path): nothing was done."""

    family_exit = ExitCode.INVALID

    def exit_code(self, command: str = "") -> ExitCode:
        return invalid_input(command)


class BackendFailure(OrchestrateError):
    """The backend failed: unreachable, wrong account, a call AWS refused, a conflict in the world.
    `aws_code` is AWS's error code when AWS (or the gate, as AWS) answered with one."""

    family_exit = ExitCode.INFRA
    aws_code: str | None = None


class ProofError(OrchestrateError):
    """An expectation could not be proved (its call could not be prepared, made or verified) or was not met."""

    family_exit = ExitCode.FAILED


class InternalError(OrchestrateError):
    """A bug of orchestrate's (what it made does not validate)."""

    family_exit = ExitCode.FAILED


#: The family of each kind of `RunFailure`, as a run's report names it.
FAILURE_KINDS: dict[str, type[OrchestrateError]] = {"input": InvalidInputError, "backend": BackendFailure,
                                                    "proof": ProofError, "internal": InternalError}


@dataclass(frozen=True)
class RunFailure:
    """Why a run ended early, as a value carried to its report: the family (`kind`, a key of
    FAILURE_KINDS), AWS's error code when there was one, the stage it happened in (None:
    preflight) and the message. `str` is the line the reports print."""

    kind: str
    message: str
    stage: str | None = None
    aws_code: str | None = None

    def __str__(self) -> str:
        return self.message if self.stage is None else f"{self.stage}: {self.message}"

    @property
    def exit_code(self) -> ExitCode:
        return FAILURE_KINDS[self.kind].family_exit
