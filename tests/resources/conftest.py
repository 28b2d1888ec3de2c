"""Fixtures for the resource reconciler tests: one embedded (moto) backend per test function."""
from __future__ import annotations

import functools
from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest
from res_support import REGION

from orchestrator.backends.embedded import EmbeddedBackend


@pytest.fixture(scope="module", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """Speed only: every Backend client builds a new boto3 Session, which re-reads and re-parses the
    service model JSON; one memoised loader (it only caches read-only data) saves ~0.3 s a test."""
    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", functools.lru_cache(maxsize=None)(botocore.loaders.create_loader))
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture
def backend() -> Iterator[EmbeddedBackend]:
    """moto in-process, without the authorization gate (the gate is not what these tests test)."""
    created = EmbeddedBackend(REGION, gate=False)
    try:
        yield created
    finally:
        created.close()
