"""One error hierarchy (orchestrator/errors.py): every exception orchestrate defines derives from
OrchestrateError, except the few that are pure control flow; no two share a name; each family
asks for its exit code (exit_codes.py)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import orchestrator
from orchestrator.commands.common import CommandError
from orchestrator.errors import (
    FAILURE_KINDS, BackendFailure, InternalError, InvalidInputError, OrchestrateError, ProofError, RunFailure,
)
from orchestrator.exit_codes import ExitCode

#: Exceptions that never reach a user: raised and caught to steer control, each saying so.
CONTROL_FLOW = {
    "orchestrator.imports.template._AliasFound",  # a second visit of a node: the caller raises TemplateError
    "orchestrator.imports.json_source.Relocate",  # the fast parse gives up: the slow walk locates the error
    "orchestrator.prove.runner.Stopped",  # a pooled settle loop told to stop
    "orchestrator.commands.signals.Terminated",  # SIGTERM, a BaseException as KeyboardInterrupt is
}


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for module_info in pkgutil.walk_packages(orchestrator.__path__, "orchestrator."):
        module = importlib.import_module(module_info.name)
        found += [value for value in vars(module).values()
                  if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__]
    return found


EXCEPTIONS = _exception_classes()


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_the_walk_finds_the_exceptions() -> None:
    names = {_qualified(cls) for cls in EXCEPTIONS}
    assert {"orchestrator.loader.diagnostics.ScenarioError", "orchestrator.backends.base.BackendError",
            "orchestrator.commands.common.CommandError"} <= names
    assert CONTROL_FLOW <= names, "an allowed control-flow exception is gone: drop it from the list"


def test_every_exception_derives_from_the_base_unless_it_is_control_flow() -> None:
    strays = [_qualified(cls) for cls in EXCEPTIONS
              if not issubclass(cls, OrchestrateError) and _qualified(cls) not in CONTROL_FLOW]
    assert strays == []


def test_control_flow_exceptions_are_not_errors() -> None:
    assert [_qualified(cls) for cls in EXCEPTIONS
            if _qualified(cls) in CONTROL_FLOW and issubclass(cls, OrchestrateError)] == []


def test_no_two_exceptions_share_a_name() -> None:
    names = [cls.__name__ for cls in EXCEPTIONS]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


@pytest.mark.parametrize(("family", "command", "code"), [
    (InvalidInputError, "apply", ExitCode.INVALID),
    (InvalidInputError, "validate", ExitCode.INVALID),
    (InvalidInputError, "plan", ExitCode.ERROR),  # Terraform's -detailed-exitcode: any error is 1
    (InvalidInputError, "drift", ExitCode.ERROR),
    (BackendFailure, "apply", ExitCode.INFRA),
    (ProofError, "run", ExitCode.FAILED),
    (InternalError, "import", ExitCode.FAILED),
])
def test_each_family_asks_for_its_exit_code(family: type[OrchestrateError], command: str, code: ExitCode) -> None:
    assert family("why").exit_code(command) == code


def test_every_exception_asks_for_one_of_the_families_codes() -> None:
    families = (InvalidInputError, BackendFailure, ProofError, InternalError, CommandError)
    assert [_qualified(cls) for cls in EXCEPTIONS
            if issubclass(cls, OrchestrateError) and cls is not OrchestrateError and not issubclass(cls, families)] == []


def test_a_command_error_keeps_its_code_and_invalid_is_the_commands_own() -> None:
    assert CommandError("gone", ExitCode.INFRA).exit_code("plan") == ExitCode.INFRA
    assert CommandError("bad", ExitCode.INVALID).exit_code("apply") == ExitCode.INVALID
    assert CommandError("bad", ExitCode.INVALID).exit_code("drift") == ExitCode.ERROR


def test_a_run_failure_prints_as_before_and_asks_for_its_familys_code() -> None:
    failure = RunFailure("backend", "AWS error KMSInternalException from PutKeyPolicy: boom", "state one",
                         "KMSInternalException")
    assert str(failure) == "state one: AWS error KMSInternalException from PutKeyPolicy: boom"
    assert str(RunFailure("backend", "a conflict")) == "a conflict"  # preflight names no stage
    assert failure.exit_code == ExitCode.INFRA
    assert {kind: family.family_exit for kind, family in FAILURE_KINDS.items()} == {
        "input": ExitCode.INVALID, "backend": ExitCode.INFRA, "proof": ExitCode.FAILED, "internal": ExitCode.FAILED}
