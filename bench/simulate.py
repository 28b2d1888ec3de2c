"""`orchestrate simulate` on 10,000 JSON lines, whole process (start-up included).

Run ``python -m bench.simulate``. Two inputs: the same three policies repeated (the compile
cache helps), and every line with its own policy (no cache help). Issue 14's figure is the
second at 2,000 lines (:func:`measure_distinct`, target under 0.25 s). iam-simulate's 1.17 s was
measured on another day: the bench reports the absolute figure, no ratio against it.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINES = 10_000
DISTINCT_LINES = 2_000
DISTINCT_TARGET_S = 0.25
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def document(index: int, distinct: bool) -> dict[str, object]:
    table = f"orders{index if distinct else index % 3}"
    identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "kms:Decrypt"],
                                                        "Resource": [f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}", KEY]}]}
    key_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                          "Action": "kms:*", "Resource": "*"}]}
    return {"PolicyInputList": [json.dumps(identity)], "ActionNames": ["kms:Decrypt"], "ResourceArns": [KEY],
            "ResourcePolicy": json.dumps(key_policy), "CallerArn": "arn:aws:iam::123456789012:user/tester",
            "ContextEntries": [{"ContextKeyName": "kms:ViaService", "ContextKeyValues": ["dynamodb.us-east-1.amazonaws.com"], "ContextKeyType": "string"}]}


def write_input(folder: Path, distinct: bool, lines: int = LINES) -> Path:
    path = folder / f"simulate-{'distinct' if distinct else 'repeated'}-{lines}.jsonl"
    path.write_text("".join(json.dumps(document(i, distinct)) + "\n" for i in range(lines)))
    return path


def time_run(path: Path, lines: int = LINES) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "orchestrator.cli", "simulate", str(path)], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or result.stdout.count("\n") != lines:
        raise RuntimeError(f"simulate failed: {result.stderr[-500:]}")
    return elapsed


def measure_distinct(runs: int = 5, lines: int = DISTINCT_LINES) -> float:
    """Median whole-process seconds of `orchestrate simulate` on ``lines`` requests, each with its own policy."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_input(Path(folder), True, lines)
        time_run(path, lines)  # one warm-up: the first run after writing pays for cold files and bytecode
        return statistics.median(time_run(path, lines) for _ in range(runs))


def measure(runs: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        inputs = {name: write_input(Path(folder), name == "distinct") for name in ("repeated", "distinct")}
        return {name: statistics.median(time_run(path) for _ in range(runs)) for name, path in inputs.items()}


if __name__ == "__main__":
    for name, seconds in measure().items():
        print(f"simulate {LINES} lines ({name} policies): median {seconds:.2f} s wall, start-up included")
    print(f"simulate {DISTINCT_LINES} lines (distinct policies): median {measure_distinct():.3f} s wall, start-up included")
