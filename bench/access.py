"""The access matrix at scale: 200 principals x 50 tables (7 actions each) and 25 keys (6 each),
so 500 (resource, action) columns, over 3 states: 300,000 cells, as issue 13 sizes it.

One key encrypts every table; users hold DynamoDB full access, a quarter of them KMS use too.
State 1: the key policy names the admin only; state 2 grants every user kms:Decrypt; state 3
denies the last 50 users explicitly. Timed in-process (`access_matrix`, loading excluded) and as
a whole process (`orchestrate access --output json --named-only`). The named principals' cells
only, as before issue 24: the rows of the principals nobody named are the symbolic engine's, a
question or more per column (about 12 s more for 20 principals x 11 resources x 3 states on this
machine), not the concrete engine's throughput this figure follows.
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

PRINCIPALS, TABLES, KEYS = 200, 50, 25


def scenario(principals: int = PRINCIPALS, tables: int = TABLES, keys: int = KEYS) -> dict[str, Any]:
    names = [f"u{i:03d}" for i in range(principals - 1)]
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "user:admin"}, "Action": "kms:*", "Resource": "*"}
    everyone = {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": [f"user:{n}" for n in names]},
                "Action": "kms:Decrypt", "Resource": "*"}
    denied = {"Sid": "DenyLast", "Effect": "Deny", "Principal": {"AWS": [f"user:{n}" for n in names[-50:]]},
              "Action": "kms:*", "Resource": "*"}
    users: dict[str, Any] = {"admin": {"managed_policies": ["AdministratorAccess"]}}
    for index, name in enumerate(names):
        extra = ["AWSKeyManagementServicePowerUser"] if index % 4 == 0 else []
        users[name] = {"managed_policies": ["AmazonDynamoDBFullAccess", *extra]}
    key_policy = {"Version": "2012-10-17", "Statement": [admin]}
    return {
        "name": f"access-{principals}-{tables}-{keys}",
        "users": users,
        "keys": {f"k{j:02d}": {"policy": key_policy} for j in range(keys)},
        "tables": {f"t{j:03d}": {"partition_key": {"name": "id"}, "encryption": "key:k00", "items": [{"id": "a", "v": 1}]}
                   for j in range(tables)},
        "states": [
            {"name": "admin-only", "expectations": []},
            {"name": "everyone-decrypts", "patch": {"keys": {"k00": {"policy": {"Statement": {"Everyone": everyone}}}}},
             "expectations": []},
            {"name": "last-fifty-denied", "patch": {"keys": {"k00": {"policy": {"Statement": {"DenyLast": denied}}}}},
             "expectations": []},
        ],
    }


def in_process_seconds(doc: dict[str, Any], folder: Path, runs: int = 3) -> dict[str, Any]:
    """Median seconds of `access_matrix` over the generated scenario (loading excluded, each run
    each run with an engine of its own, as one `orchestrate access` is)."""
    from orchestrator.analysis.access import access_matrix
    from orchestrator.loader import load_scenario

    path = folder / "access-in-process.yaml"
    path.write_text(yaml.safe_dump(doc))
    loaded = load_scenario(path)
    found = loaded.scenario
    times, cells = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        matrix = access_matrix(found.name, found.region, loaded.desired, [s.name for s in found.states],
                               [s.expectations for s in found.states], classes=False)
        times.append(time.perf_counter() - started)
        cells = matrix.cell_count
    seconds = statistics.median(times)
    return {"cells": cells, "runs": runs, "seconds": seconds, "cells_per_s": cells / seconds}


def measure(whole_process: Callable[..., dict[str, float]], folder: Path, runs: int = 3) -> dict[str, Any]:
    """The access-matrix figure: in-process (median of `runs`) and one whole process,
    `orchestrate access GENERATED.yaml --output json -o /dev/null --named-only` (start-up and loading
    included)."""
    doc = scenario()
    figures = in_process_seconds(doc, folder, runs)
    path = folder / "access-generated.yaml"
    path.write_text(yaml.safe_dump(doc))
    process = whole_process("orchestrator.cli", "access", str(path), "--output", "json", "-o", os.devnull, "--named-only")
    assert process["exit"] == 0, "orchestrate access of the generated scenario failed"
    return {**figures, "process_wall_s": process["wall"], "process_inner_s": process["inner"], "process_rss_mib": process["rss_mib"]}
