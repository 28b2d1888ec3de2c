"""What the reconciling commands share: target options, loading, the backend session, errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator.loader import LoadedScenario, ScenarioError, load_scenario

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INFRA = 0, 1, 2, 3


class CommandError(Exception):
    """Ends a command with a message and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def load(path: str) -> LoadedScenario:
    try:
        return load_scenario(path)
    except ScenarioError as error:
        raise CommandError(str(error), EXIT_INVALID) from None


def describe_aws_error(error: BaseException) -> str:
    """AWS errors with their code and message; anything else as itself."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "Unknown")
        message = response["Error"].get("Message", "")
        operation = getattr(error, "operation_name", "")
        return f"AWS error {code} from {operation}: {message}" if operation else f"AWS error {code}: {message}"
    return f"{type(error).__name__}: {error}"


@contextmanager
def session(args: argparse.Namespace, loaded: LoadedScenario, infra_code: int = EXIT_INFRA) -> Iterator[Any]:
    """A Context on the chosen backend, closed afterwards; infrastructure failures become CommandError."""
    from orchestrator.backends import BackendError, open_backend
    from orchestrator.resources.context import ConflictError, Context
    from orchestrator.resources.lockout import LockoutError

    scenario = loaded.scenario
    region = args.region or scenario.region
    account = args.account or scenario.account
    try:
        backend = open_backend(region, args.target, args.endpoint_url, args.profile, account)
        backend.identity()  # fails fast, and clearly, when the endpoint or credentials are wrong
    except BackendError as error:
        raise CommandError(str(error), infra_code) from None
    try:
        yield Context(backend, scenario.name, run_id=args.run_id, adopt=args.adopt)
    except (ConflictError, LockoutError) as error:
        raise CommandError(str(error), infra_code) from None
    except BackendError as error:
        raise CommandError(str(error), infra_code) from None
    except Exception as error:
        if getattr(error, "response", None) is not None or type(error).__module__.startswith(("botocore", "urllib3")):
            raise CommandError(describe_aws_error(error), infra_code) from None
        raise
    finally:
        backend.close()


def finish(run: Any, args: argparse.Namespace) -> int:
    """Run a command body, printing a CommandError as one message with its exit code."""
    try:
        return int(run(args))
    except CommandError as error:
        print(str(error), file=sys.stderr)
        return error.code
    except ScenarioError as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
