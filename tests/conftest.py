"""Fixtures shared across the test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orchestrator.backends
from orchestrator.backends.embedded import EmbeddedBackend


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedBackend]:
    """One embedded world that every command of the test opens (commands run in-process through
    `orchestrator.cli.main` and would each make their own)."""
    made = EmbeddedBackend("us-east-1")
    close = made.close
    # each command closes its backend; this one lives on (moto's mock with it) until the test ends
    monkeypatch.setattr(made, "close", lambda: None)
    monkeypatch.setattr(orchestrator.backends, "open_backend", lambda *args, **kwargs: made)
    yield made
    close()
