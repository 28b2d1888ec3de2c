"""One interface to every place AWS APIs can be answered: embedded moto, an endpoint, real AWS.

A backend hands out boto3 clients, the orchestrator's own identity or a principal's, and
observes every API call through botocore's `before-parameter-build` event so that callers can count calls
(API economy), inject faults (convergence tests) or log them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.backends.failures import (
    CONNECT_SECONDS, ENDPOINT_READ_SECONDS, PROBE_SECONDS, Timeouts, answered_message, is_transport_error, is_unreadable_answer,
    unreachable_message,
)
from orchestrator.errors import BackendFailure

READ_PREFIXES = ("Get", "List", "Describe", "Scan", "Query", "BatchGet", "Head")
CallObserver = Callable[[str, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Credentials:
    """Access keys. The secret never appears in repr, logs or reports."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


@dataclass
class CallLog:
    """Every API call made through a backend's clients, as (service, operation, principal)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def mutating(self) -> list[tuple[str, str, str]]:
        return [call for call in self.calls if is_mutating(call[1])]

    def clear(self) -> None:
        self.calls.clear()


class BackendError(BackendFailure):
    """An infrastructure problem: unreachable endpoint, wrong account, missing credentials."""


class EndpointUnreachable(BackendError):
    """No answer came: connection refused, or no answer within the timeouts."""


class EndpointAnswered(BackendError):
    """The endpoint answered, with an error or with something that is not an AWS answer."""


class Backend(ABC):
    kind: str = "abstract"
    #: Whether outcomes can lag changes (IAM and KMS propagation); only real AWS waits.
    eventually_consistent: bool = False

    #: What messages call the place that answers (an endpoint's URL; AWS's regional STS URL).
    endpoint_label: str = "the backend"
    #: Bounds for every call; `--timeout` replaces the read timeout (see failures.Timeouts).
    default_timeouts: Timeouts = Timeouts(connect=CONNECT_SECONDS, read=ENDPOINT_READ_SECONDS, attempts=2,
                                       probe=PROBE_SECONDS)

    def __init__(self, region: str, timeout: float | None = None) -> None:
        self.region = region
        self.timeouts = self.default_timeouts.with_read(timeout) if timeout else self.default_timeouts
        self.log = CallLog()
        self._observers: list[CallObserver] = []
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._identity: dict[str, str] | None = None
        self._boto_session: Any = None

    @abstractmethod
    def _credential_kwargs(self, credentials: Credentials | None) -> dict[str, Any]:
        """Client arguments naming the credentials (empty: the session's own chain)."""

    def _session_kwargs(self) -> dict[str, Any]:
        return {}

    def _client_kwargs(self) -> dict[str, Any]:
        return {}

    def client(self, service: str, credentials: Credentials | None = None, account: str | None = None) -> Any:
        """A boto3 client for the orchestrator's identity (credentials None) or a principal's.
        `account`: the orchestrator's identity in another of the scenario's accounts (a
        principal's credentials already belong to one account)."""
        account = None if credentials is not None or account == self._home_account() else account
        cache_key = (service, credentials.access_key_id if credentials else None, account)
        if cache_key not in self._clients:
            self._clients[cache_key] = self._new_client(service, credentials, self.timeouts, account)
        return self._clients[cache_key]

    def anonymous_client(self, service: str) -> Any:
        """A boto3 client whose requests are unsigned (botocore ``Config(signature_version=UNSIGNED)``,
        no credentials): the anonymous caller of ``as: anonymous``."""
        cache_key = (service, "<anonymous>", None)
        if cache_key not in self._clients:
            from botocore import UNSIGNED
            from botocore.config import Config

            config = self.timeouts.config().merge(Config(signature_version=UNSIGNED))
            client = self._session().client(service, region_name=self.region, config=config, **self._client_kwargs())
            self._prepare(client, None)
            self._clients[cache_key] = client
        return self._clients[cache_key]

    def _home_account(self) -> str | None:
        """The orchestrator's own account once known (no call is made to learn it)."""
        return self._identity["Account"] if self._identity else None

    def _new_client(self, service: str, credentials: Credentials | None, timeouts: Timeouts,
                    account: str | None = None) -> Any:
        client = self._session_for(account).client(service, region_name=self.region, config=timeouts.config(),
                                                   **self._credential_kwargs(credentials), **self._client_kwargs())
        self._prepare(client, credentials)
        if account is not None:
            self._place(client, account)
        return client

    def _session_for(self, account: str | None) -> Any:
        """The boto3 session of the orchestrator's identity in `account` (default: the one session)."""
        return self._session()

    def _place(self, client: Any, account: str) -> None:
        """Make a client of the orchestrator's identity act in `account`: on moto (embedded,
        `orchestrate serve`, moto's server) the `x-moto-account-id` header names the account a
        request is served in (moto's multi-account support)."""
        def header(params: dict[str, Any], **_: Any) -> None:
            params.setdefault("headers", {})["x-moto-account-id"] = account

        client.meta.events.register_first("before-call.*.*", header)

    def identity_in(self, account: str) -> dict[str, str]:
        """The orchestrator's identity in another account of the scenario (GetCallerIdentity there)."""
        answer = self.client("sts", None, account).get_caller_identity()
        return {"Account": answer["Account"], "Arn": answer["Arn"], "UserId": answer["UserId"]}

    def _session(self) -> Any:
        """One boto3 session per backend: its loader parses each service model once."""
        if self._boto_session is None:
            import boto3

            self._boto_session = boto3.session.Session(**self._session_kwargs())
        return self._boto_session

    def _prepare(self, client: Any, credentials: Credentials | None) -> None:
        principal = credentials.access_key_id if credentials else "orchestrator"

        def observe(model: Any, params: dict[str, Any], **_: Any) -> None:
            service = model.service_model.service_name
            self.log.calls.append((service, model.name, principal))
            for observer in list(self._observers):
                observer(service, model.name, params)

        # before-parameter-build carries the API parameters as the caller gave them.
        client.meta.events.register_first("before-parameter-build.*.*", observe)

    def observe(self, observer: CallObserver) -> Callable[[], None]:
        """Call observer(service, operation, params) before every API call; returns an undo."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def identity(self) -> dict[str, str]:
        """The orchestrator's own identity (sts:GetCallerIdentity): Account, Arn, UserId."""
        if self._identity is None:
            # one attempt of PROBE_SECONDS: the first call of every command, so a silent endpoint is named at once
            probe = self._new_client("sts", None, self.timeouts.single())
            self.endpoint_label = str(probe.meta.endpoint_url)
            try:
                answer = probe.get_caller_identity()
            except Exception as error:
                raise self.failure(error, probe_failed=True) or error from None
            self._identity = {"Account": answer["Account"], "Arn": answer["Arn"], "UserId": answer["UserId"]}
        return self._identity

    def where(self, error: BaseException | None = None) -> str:
        """The URL calls go to: the one the error names, else the endpoint's."""
        url = getattr(error, "kwargs", {}).get("endpoint_url") if error is not None else None
        return str(url or self.endpoint_label).rstrip("/")

    def failure(self, error: BaseException, probe_failed: bool = False) -> BackendError | None:
        """One line for an error that says where the backend stands: not reachable, or reached
        and answering an error (any answer to the start-up probe, or one that is not AWS's)."""
        if is_transport_error(error):
            bounds = self.timeouts.single() if probe_failed else self.timeouts
            return EndpointUnreachable(unreachable_message(error, self.where(error), bounds))
        if is_unreadable_answer(error) or (probe_failed and getattr(error, "response", None) is not None):
            return EndpointAnswered(answered_message(error, self.where(error)))
        return None

    @property
    def account_id(self) -> str:
        return self.identity()["Account"]

    @property
    def world(self) -> str | None:
        """What names the world this backend changes, for the one-writer lock; None where the
        world is this process's own (embedded)."""
        return None

    def forget_principal(self, credentials: Credentials) -> None:
        """Drop cached clients of a principal whose access key was deleted."""
        for cache_key in [k for k in self._clients if k[1] == credentials.access_key_id]:
            del self._clients[cache_key]

    def close(self) -> None:
        self._clients.clear()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
