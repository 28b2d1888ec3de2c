"""One writer per world: apply and destroy of one scenario and run refuse while another holds it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.backends.lock import LockHeld, world_lock
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
SCENARIO = "kms-dynamodb-access"
HOLD = "import sys, time\nfrom orchestrator.backends.lock import world_lock\nwith world_lock(sys.argv[1], 's', 'default'):\n    print('held', flush=True)\n    time.sleep(60)\n"


@pytest.fixture(autouse=True)
def private_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATE_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    match = re.search(r"http://127\.0\.0\.1:(\d+)", process.stdout.readline())
    assert match, "serve did not say where it listens"
    yield f"http://127.0.0.1:{match[1]}"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


def test_a_held_lock_refuses_a_second_holder_of_the_same_world_scenario_and_run() -> None:
    with world_lock("the endpoint http://x", SCENARIO, "default"):
        with pytest.raises(LockHeld, match=rf"pid {os.getpid()}\) is changing scenario {SCENARIO} \(run default\)"):
            with world_lock("the endpoint http://x", SCENARIO, "default"):
                pass
        with world_lock("the endpoint http://x", SCENARIO, "r2"), world_lock("the endpoint http://y", SCENARIO, "default"):
            pass  # another run id, another world: no conflict
    with world_lock("the endpoint http://x", SCENARIO, "default"):
        pass  # released at the end of the block


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "w"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "ORCHESTRATE_LOCK_DIR": os.environ["ORCHESTRATE_LOCK_DIR"]})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=rf"pid {holder.pid}\)"):
            with world_lock("w", "s", "default"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    with world_lock("w", "s", "default"):
        pass


def test_apply_and_destroy_refuse_while_another_changes_the_scenario(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    with world_lock(f"the endpoint {endpoint}", SCENARIO, "default"):
        for command in ("apply", "destroy", "run"):
            assert main([command, SEED, "--endpoint-url", endpoint]) == 3
            err = capsys.readouterr().err
            assert f"is changing scenario {SCENARIO} (run default) on the endpoint {endpoint}" in err, err
        assert main(["plan", SEED, "--endpoint-url", endpoint]) == 2, "plan reads only: no lock"
    assert main(["run", SEED, "--endpoint-url", endpoint, "--run-id", "lockfree"]) == 0
