"""Fixtures for the resource reconciler tests: one embedded (moto) backend per test function."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from res_support import REGION

from orchestrator.backends.embedded import EmbeddedBackend


@pytest.fixture
def backend() -> Iterator[EmbeddedBackend]:
    """moto in-process, without the authorization gate (the gate is not what these tests test)."""
    created = EmbeddedBackend(REGION, gate=False)
    try:
        yield created
    finally:
        created.close()
