"""The seed's apply against `orchestrate serve` in an empty account and in one holding 2,000 KMS
keys that no scenario owns (issue 14, items 6 and 7: the cost must not grow with the account).

Two servers, one per account; the foreign keys are made with boto3 (CreateKey, 8 threads) before
any run. Each run is `orchestrate apply SEED --endpoint-url URL` as its own process (start-up
included), followed by an untimed `orchestrate destroy`, so that every apply starts from an
account that holds nothing of the seed (the keys destroy schedules stay, pending deletion, in
both accounts alike). Runs alternate between the two accounts.
"""
from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

FOREIGN = 2000
RUNS = 3


@contextlib.contextmanager
def served(root: Path) -> Iterator[str]:
    """`orchestrate serve` on a free loopback port (orchestrator.backends.serve.spawned)."""
    from orchestrator.backends.serve import spawned

    with tempfile.TemporaryFile("w") as stderr, spawned(stderr, "--admin-key", "AKIABENCHFOREIGNKEYS:bench", cwd=str(root)) as url:
        yield url


def make_foreign_keys(url: str, count: int) -> float:
    """`count` keys without any tag, as another team's would be; the seconds it took."""
    import boto3

    kms = boto3.client("kms", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="AKIABENCHFOREIGNKEYS", aws_secret_access_key="bench")
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda index: kms.create_key(Description=f"foreign {index}"), range(count)))
    return time.perf_counter() - started


def measure(root: Path, whole_process: Callable[..., dict[str, float]], runs: int = RUNS,
            foreign: int = FOREIGN) -> dict[str, Any]:
    seed = str(root / "scenarios" / "kms-dynamodb-access.yaml")
    timings: dict[str, list[dict[str, float]]] = {"empty": [], "crowded": []}
    with served(root) as empty, served(root) as crowded:
        create_s = make_foreign_keys(crowded, foreign)
        for _ in range(runs):
            for label, url in (("empty", empty), ("crowded", crowded)):
                run = whole_process("orchestrator.cli", "apply", seed, "--endpoint-url", url, "--no-color")
                assert run["exit"] == 0, f"the seed's apply failed against the {label} account"
                timings[label].append(run)
                subprocess.run([sys.executable, "-m", "orchestrator.cli", "destroy", seed, "--endpoint-url", url, "--no-color"],
                               cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    empty_s = statistics.median(run["wall"] for run in timings["empty"])
    crowded_s = statistics.median(run["wall"] for run in timings["crowded"])
    return {"foreign_keys": foreign, "runs": runs, "create_keys_s": create_s, "empty_s": empty_s, "crowded_s": crowded_s,
            "ratio": crowded_s / empty_s,
            "empty_inner_s": statistics.median(run["inner"] for run in timings["empty"]),
            "crowded_inner_s": statistics.median(run["inner"] for run in timings["crowded"])}
