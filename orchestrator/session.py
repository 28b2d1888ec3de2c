"""The one opener of a backend session: the backend the options choose (embedded moto, an
endpoint, real AWS), a run context on it that knows the scenario's desired states, and the
backend closed afterwards, whatever happened. The commands (commands/common.py), the matrix's
workers (and through them the pytest plugin) and mutate's embedded runs all open it here.

What each caller does around it stays its own: a command refuses options before opening and
turns failures into its exit codes; a matrix worker turns them into the scenario's outcome."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.backends import Backend
    from orchestrator.loader import LoadedScenario
    from orchestrator.resources.context import RunContext


@dataclass(frozen=True)
class BackendChoice:
    """Which backend the options choose; region and account None: the scenario's own.
    `environment` False: the embedded backend even where AWS_ENDPOINT_URL names an endpoint
    (mutate's runs for certainty are moto's, whatever the shell says)."""

    target: str = "embedded"
    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    account: str | None = None
    timeout: float | None = None
    #: --profile-for (real AWS): the AWS profile of each of the scenario's other accounts.
    profiles_for: Mapping[str, str] = field(default_factory=dict)
    environment: bool = True


@contextmanager
def backend_session(loaded: LoadedScenario, choice: BackendChoice = BackendChoice(), *, run_id: str | None = None,
                    adopt: bool = False, identify: bool = False,
                    manage_organization: bool = False) -> Iterator[RunContext]:
    """A run context on the chosen backend, closed afterwards. identify (the commands) asks for
    orchestrate's identity first, so that a wrong endpoint or credentials fail at once, clearly."""
    from orchestrator.resources.context import RunContext

    backend = _open(loaded, choice)
    try:
        if identify:
            backend.identity()
        ctx = RunContext(backend, loaded.scenario.name, run_id=run_id, adopt=adopt,
                         manage_organization=manage_organization)
        ctx.declare(loaded.desired)
        yield ctx
    finally:
        backend.close()


def _open(loaded: LoadedScenario, choice: BackendChoice) -> Backend:
    from orchestrator.backends import open_backend  # looked up at each call: tests put theirs in its place

    scenario = loaded.scenario
    if not choice.environment and choice.target == "embedded" and choice.endpoint_url is None:
        from orchestrator.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(choice.region or scenario.region, choice.account or scenario.account)
    return open_backend(choice.region or scenario.region, choice.target, choice.endpoint_url, choice.profile,
                        choice.account or scenario.account, choice.timeout, dict(choice.profiles_for),
                        scenario.accounts)
