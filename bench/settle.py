"""Time to settle on `orchestrate serve --propagation-delay 5` (issue 14, item 7): a state with 1, 50
and 200 expectations, serially (`--parallel 1`) and with the default pool.

The generated scenario's first state makes the principals (their keys and clients are made there,
with `consecutive: 1`, so no preparation falls inside the measured wait); its second grants them
kms:Decrypt in the key policy, which serve's gate enforces only after the delay, so the first
observations of every expectation proved at once are denied and must be retried. Principals: at
most PRINCIPALS, so the state's apply costs the same for every N (a state that reads 200 users after
PutKeyPolicy would eat into the delay before observing starts, and flatter the large N).
Each run is `orchestrate apply FILE --endpoint-url URL --output json` as its own process against a
fresh serve. A run whose expectations did not wait, or did not all pass, fails loudly.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

DELAY = 5.0
SIZES = (1, 50, 200)
PRINCIPALS = 8
CONSECUTIVE = 3  # Settle's default


def scenario(expectations: int, principals: int = PRINCIPALS) -> dict[str, Any]:
    names = [f"u{i:03d}" for i in range(min(principals, expectations))]
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "user:admin"}, "Action": "kms:*", "Resource": "*"}
    grant = {"Effect": "Allow", "Principal": {"AWS": [f"user:{n}" for n in names]}, "Action": "kms:Decrypt", "Resource": "*"}

    def expect(i: int, outcome: str, **extra: Any) -> dict[str, Any]:
        return {"as": names[i % len(names)], "action": "dynamodb:GetItem", "resource": "table:data",
                "key": {"id": f"k{i}"}, "expect": outcome, **extra}
    return {
        "name": f"settle-{expectations}",
        "users": {"admin": {"managed_policies": ["AdministratorAccess"]},
                  **{n: {"managed_policies": ["AmazonDynamoDBFullAccess"]} for n in names}},
        "keys": {"data": {"policy": {"Version": "2012-10-17", "Statement": [admin]}}},
        "tables": {"data": {"partition_key": {"name": "id"}, "encryption": "key:data",
                            "items": [{"id": f"k{i}", "v": i} for i in range(expectations)]}},
        "states": [
            {"name": "denied", "expectations": [expect(i, "denied", settle={"consecutive": 1}) for i in range(len(names))]},
            {"name": "granted", "patch": {"keys": {"data": {"policy": {"Statement": {"Everyone": grant}}}}},
             "expectations": [expect(i, "allowed") for i in range(expectations)]},
        ],
    }


def run_once(root: Path, folder: Path, expectations: int, parallel: int | None, delay: float = DELAY) -> dict[str, Any]:
    """One apply against a fresh `serve --propagation-delay`: the changed state's figures, checked."""
    from orchestrator.backends.serve import spawned

    path = folder / f"settle-{expectations}.yaml"
    path.write_text(yaml.safe_dump(scenario(expectations)))
    options = ["--parallel", str(parallel)] if parallel else []
    with tempfile.TemporaryFile("w") as stderr, spawned(stderr, "--propagation-delay", f"{delay:g}", cwd=str(root)) as url:
        started = time.perf_counter()
        answer = subprocess.run([sys.executable, "-m", "orchestrator.cli", "apply", str(path), "--endpoint-url", url,
                                 "--output", "json", "--quiet", *options], cwd=root, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    report = json.loads(answer.stdout)
    return checked(report, expectations, wall, delay)


def checked(report: dict[str, Any], expectations: int, wall: float, delay: float) -> dict[str, Any]:
    """The figure, after making sure it measures what it says."""
    state = report["states"][-1]
    verdicts = state["expectations"]
    if not report["passed"] or len(verdicts) != expectations or not all(v["passed"] and v["settled"] for v in verdicts):
        raise AssertionError(f"settle-{expectations}: not every expectation passed and settled: {report.get('error')}")
    waited = sum(v["attempts"] > CONSECUTIVE for v in verdicts)  # a first observation that did not match
    workers = report["parallel"]
    slowest = state["last_to_settle"]
    if waited < min(expectations, workers) or slowest is None or slowest["settle_seconds"] < delay / 2:
        raise AssertionError(f"settle-{expectations}: only {waited} expectations met the old policy (pool of {workers})")
    return {"expectations": expectations, "parallel": workers, "settle_s": state["settle_seconds"], "wall_s": wall,
            "waited": waited, "last_to_settle": slowest}


def measure_parallel(root: Path, sizes: tuple[int, ...] = SIZES, delay: float = DELAY) -> list[dict[str, Any]]:
    """The default pool, for each size in turn (in the foreground: the pool keeps serve busy)."""
    with tempfile.TemporaryDirectory() as folder:
        return [run_once(root, Path(folder), size, None, delay) for size in sizes]


class Serial:
    """The serial runs in a background thread: they sleep through >95% of their time (one
    observation at a time, at most ~4 requests a second), so they can overlap the bench's later
    figures without either disturbing the other much; `result()` waits for them."""

    def __init__(self, root: Path, sizes: tuple[int, ...] = SIZES, delay: float = DELAY) -> None:
        import threading

        self._figures: list[dict[str, Any]] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(root, sizes, delay), name="bench-settle-serial", daemon=True)
        self._thread.start()

    def _run(self, root: Path, sizes: tuple[int, ...], delay: float) -> None:
        try:
            with tempfile.TemporaryDirectory() as folder:
                self._figures = [run_once(root, Path(folder), size, 1, delay) for size in sizes]
        except BaseException as error:  # reported by result(), in the bench's own thread
            self._error = error

    def result(self) -> list[dict[str, Any]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._figures


def summary(serial: list[dict[str, Any]], parallel: list[dict[str, Any]]) -> dict[str, Any]:
    """Both series and the target's ratio: the largest state's settle time over the smallest's, pooled."""
    return {"delay_s": DELAY, "serial": serial, "parallel": parallel,
            "ratio": parallel[-1]["settle_s"] / parallel[0]["settle_s"]}
