"""Backends: embedded (moto in-process with the authorization gate), endpoint, aws."""

from __future__ import annotations

import os

from orchestrator.backends.base import (
    Backend, BackendError, CallLog, Credentials, EndpointAnswered, EndpointUnreachable, is_mutating,
)

__all__ = ["Backend", "BackendError", "CallLog", "Credentials", "EndpointAnswered", "EndpointUnreachable",
           "is_mutating", "open_backend"]


def open_backend(
    region: str,
    target: str = "embedded",
    endpoint_url: str | None = None,
    profile: str | None = None,
    account: str | None = None,
    timeout: float | None = None,
    profiles_for: dict[str, str] | None = None,
    accounts: dict[str, str] | None = None,
) -> Backend:
    """The backend a command asked for; AWS_ENDPOINT_URL selects an endpoint like --endpoint-url.

    timeout (--timeout) bounds each attempt's wait for an answer; None keeps the backend's default.
    profiles_for (--profile-for, real AWS only): the profile for each of the scenario's `accounts`."""
    endpoint_url = endpoint_url or (os.environ.get("AWS_ENDPOINT_URL") if target != "aws" else None)
    if target == "aws":
        from orchestrator.backends.aws import AwsBackend

        backend = AwsBackend(region, profile, timeout, profiles_for, accounts)
        backend.guard(account)
        return backend
    if profiles_for:
        raise BackendError("--profile-for applies to --target aws (moto and endpoints serve every account)")
    if endpoint_url:
        from orchestrator.backends.endpoint import EndpointBackend

        return EndpointBackend(region, endpoint_url, timeout)
    from orchestrator.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(region, account)
