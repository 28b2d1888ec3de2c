"""The orchestrator's identity in another of a scenario's accounts (`accounts:`), as a backend.

Reconcilers take a backend and ask it for clients; for an entity that says `account: NAME` they
get this view, whose clients act in that account and whose `account_id` is that account's. On
moto (embedded and `orchestrate serve`) one process holds every account's world and a request
header names the account (`Backend._place`); on real AWS each account has its own credentials
(`--profile-for NAME=PROFILE`, `AwsBackend._session_for`), checked against the account's id.
Everything else (the call log, observers, the gate, failures) is the underlying backend's.
"""

from __future__ import annotations

from typing import Any

from orchestrator.backends.base import Backend, Credentials


def in_account(backend: Any, account: str) -> Any:
    """`backend` as the orchestrator's identity in `account` (the backend itself for its own)."""
    base = backend.home if isinstance(backend, AccountView) else backend
    return base if account == base.account_id else AccountView(base, account)


class AccountView:
    def __init__(self, base: Backend, account: str) -> None:
        self._base = base
        self._account = account
        self._identity: dict[str, str] | None = None

    @property
    def account_id(self) -> str:
        return self._account

    @property
    def home(self) -> Backend:
        return self._base

    def client(self, service: str, credentials: Credentials | None = None, account: str | None = None) -> Any:
        return self._base.client(service, credentials, account or self._account)

    def identity(self) -> dict[str, str]:
        if self._identity is None:
            self._identity = self._base.identity_in(self._account)
        return self._identity

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)
