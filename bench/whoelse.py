"""How long deciding guarantees takes (issue 24): every shipped scenario's guarantees, each under
1 s, and one guarantee over a 200-statement key policy, under 5 s; with the process's peak RSS
(z3 allocates outside Python's heap, so tracemalloc would not see it). `python -m bench.whoelse`
prints the rows; `python -m bench` runs it as a process of its own (`--json`) and folds them into
RESULTS.md (bench/results.py).

Each figure is in-process, after one warm-up decision (z3's and the engine's imports are not in
it), the offline context made once per scenario (analysis/offline.py), as `apply` decides them."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_TARGET_S = 1.0
LARGE_TARGET_S = 5.0
LARGE_STATEMENTS = 200
HOME, PARTNER, ORG = "111111111111", "222222222222", "o-aaaaaaaaaa"
KEY = f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _rss_mib() -> float:
    """This process's peak so far (bench/measured.py: VmHWM, not ru_maxrss, which Linux carries
    across exec from the bench that started it)."""
    from bench.measured import peak_kib

    return peak_kib() / 1024


def scenario_figures() -> list[dict[str, Any]]:
    """Per shipped scenario: its guarantees, the slowest one's seconds, the total, peak RSS after."""
    from orchestrator.analysis.offline import offline_context
    from orchestrator.authz.decide import service_engine
    from orchestrator.loader import load_scenario
    from orchestrator.prove.guarantees import decide_guarantees

    engine = service_engine()
    rows = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        loaded = load_scenario(path)
        ctx = offline_context(loaded.scenario.name, loaded.desired, loaded.scenario.region)
        started = time.perf_counter()
        results = [r for state, desired in zip(loaded.scenario.states, loaded.desired, strict=True)
                   for r in decide_guarantees(ctx, desired, state.guarantees, engine)]
        rows.append({"scenario": path.stem, "guarantees": len(results), "total_s": time.perf_counter() - started,
                     "slowest_s": max((r.seconds for r in results), default=0.0),
                     "as_expected": sum(r.passed for r in results), "rss_mib": _rss_mib()})
    return rows


def large_policy(statements: int = LARGE_STATEMENTS) -> dict[str, Any]:
    """A key policy of ``statements`` statements, of the shapes key policies have: account and
    role principals, Principal "*" under organization, endpoint, IP and encryption-context
    conditions, denies on tags; the partner's readers (one role each) may decrypt, no one else of
    another account."""
    found: list[dict[str, Any]] = [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                                    "Action": "kms:*", "Resource": "*"}]
    for n in range(statements - 1):
        shape = n % 5
        if shape == 0:
            found.append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:role/app-{n}"},
                          "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
                          "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": f"t-{n}"}}})
        elif shape == 1:
            found.append({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                          "Condition": {"StringEquals": {"aws:PrincipalAccount": HOME, "aws:SourceVpce": f"vpce-{n:08x}"}}})
        elif shape == 2:
            found.append({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                          "Condition": {"StringEquals": {f"aws:PrincipalTag/blocked-{n}": "true"}}})
        elif shape == 3:
            found.append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:user/ops-{n}"},
                          "Action": "kms:DescribeKey", "Resource": "*",
                          "Condition": {"IpAddress": {"aws:SourceIp": f"10.{n % 250}.0.0/16"}}})
        else:
            found.append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                          "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                          "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/reader-{n}"}}})
    return {"Version": "2012-10-17", "Statement": found}


def large_figure(runs: int = 3) -> dict[str, Any]:
    from orchestrator.authz.decide import service_engine
    from orchestrator.authz.engine.inputs import PolicySource
    from orchestrator.whoelse import Question, Scope, decide

    source = PolicySource("key", "key policy (200 statements)", json.dumps(large_policy()))
    readers = [f"arn:aws:iam::{PARTNER}:role/reader-{n}" for n in range(LARGE_STATEMENTS - 1) if n % 5 == 4]
    question = Question(KEY, HOME, ("kms:Decrypt",), Scope.everyone([HOME, *readers]), resource_policy=source)
    times, status = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        status = decide(question, service_engine()).status
        times.append(time.perf_counter() - started)
    return {"statements": LARGE_STATEMENTS, "seconds": statistics.median(times), "status": status, "rss_mib": _rss_mib()}


def warm_up() -> None:
    from orchestrator.authz.engine.inputs import PolicySource
    from orchestrator.whoelse import Question, Scope, decide

    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": HOME}, "Action": "kms:*", "Resource": "*"}]}
    decide(Question(KEY, HOME, ("kms:Decrypt",), Scope.the_public(), resource_policy=PolicySource("key", "k", json.dumps(policy))))


def measure() -> dict[str, Any]:
    warm_up()
    return {"scenarios": scenario_figures(), "large": large_figure()}


def rows(figure: dict[str, Any]) -> list[str]:
    """The target rows and the per-scenario table (Markdown)."""
    scenarios, large = figure["scenarios"], figure["large"]
    slowest = max(scenarios, key=lambda row: row["slowest_s"])
    missed = [row["scenario"] for row in scenarios if row["slowest_s"] >= SCENARIO_TARGET_S]
    return [
        f"| guarantees: each shipped one decided under {SCENARIO_TARGET_S:.0f} s (issue 24) | slowest {slowest['slowest_s']:.2f} s"
        f" ({slowest['scenario']}) | {'yes' if not missed else 'no: ' + ', '.join(missed)} |",
        f"| guarantees: a {large['statements']}-statement key policy under {LARGE_TARGET_S:.0f} s (issue 24) | {large['seconds']:.2f} s"
        f" ({large['status']}) | {'yes' if large['seconds'] < LARGE_TARGET_S else 'no'} |",
        "",
        "| scenario | guarantees | as expected | slowest | total | peak RSS |",
        "|---|---|---|---|---|---|",
        *[f"| {r['scenario']} | {r['guarantees']} | {r['as_expected']} | {r['slowest_s']:.2f} s | {r['total_s']:.2f} s |"
          f" {r['rss_mib']:.0f} MiB |" for r in scenarios],
        f"| key policy of {large['statements']} statements | 1 | {large['status']} | {large['seconds']:.2f} s | | {large['rss_mib']:.0f} MiB |",
    ]


def main() -> None:
    """`--json`: the figures as JSON (python -m bench runs this as a process of its own, so that
    its peak memory is the decisions', not the bench's)."""
    figure = measure()
    print(json.dumps(figure) if "--json" in sys.argv[1:] else "\n".join(rows(figure)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
