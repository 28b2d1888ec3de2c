"""Every benchmark figure, printed and written to bench/RESULTS.md. `python -m bench`.

Whole-process figures run each command as its own process (start-up included) through
bench.measured, which also reports peak RSS; ratios compare runs made alternately in this one
invocation. Medians of at least 5 runs unless a line says otherwise. No figure here is asserted
in a test: timings on a shared machine are for reading, not for failing builds.
"""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SCALE = [(25, 2, 1250), (50, 4, 2500), (100, 8, 5000), (200, 16, 10000)]
# The largest point costs ~30 s a run on 2 cores: medians of 3 (1 at 10,000 expectations) keep
# the whole bench under 5 minutes. RESULTS.md says so beside the figures.
SCALE_RUNS = {10000: 1}
SCALE_DEFAULT_RUNS = 3


def whole_process(module: str, *args: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.measured", module, *args], cwd=ROOT, env={**os.environ, "BENCH_OUT": out},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    figures = json.loads(Path(out).read_text())
    os.unlink(out)
    return {"wall": wall, "rss_mib": figures["maxrss_kib"] / 1024, "inner": figures["inner_seconds"], "exit": figures["exit"]}


def alternate(a: tuple[str, ...], b: tuple[str, ...], runs: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    first, second = [], []
    for _ in range(runs):
        first.append(whole_process(*a))
        second.append(whole_process(*b))
    return first, second


def median(runs: list[dict[str, float]], field: str) -> float:
    return statistics.median(run[field] for run in runs)


def seed_overhead() -> dict[str, Any]:
    ours, floor = alternate(("orchestrator.cli", "apply", str(SEED), "--output", "json"), ("bench.handwritten_seed",), RUNS)
    assert all(run["exit"] == 0 for run in ours), "the seed scenario must pass"
    return {"orchestrate_s": median(ours, "wall"), "handwritten_s": median(floor, "wall"),
            "ratio": median(ours, "wall") / median(floor, "wall"),
            "orchestrate_rss_mib": max(r["rss_mib"] for r in ours), "handwritten_rss_mib": max(r["rss_mib"] for r in floor),
            "orchestrate_inner_s": median(ours, "inner"), "handwritten_inner_s": median(floor, "inner")}


def startup() -> dict[str, Any]:
    """`orchestrate --help` and `validate` of the seed, whole process (bench/startup.py)."""
    from bench.startup import measure

    return measure(whole_process, RUNS)


def api_economy() -> dict[str, Any]:
    """Calls per resource for an apply from scratch, and for a no-op re-apply, counted with
    botocore events (the backend's call log)."""
    from orchestrator.reconcile.apply import apply_state
    from orchestrator.backends.embedded import EmbeddedBackend
    from orchestrator.loader import load_scenario
    from orchestrator.resources.context import RunContext

    loaded = load_scenario(SEED)
    backend = EmbeddedBackend(loaded.scenario.region)
    try:
        first = _traced_apply(backend, loaded, apply_state, RunContext)
        second = _traced_apply(backend, loaded, apply_state, RunContext)
    finally:
        backend.close()
    return {"from_scratch": first, "re_apply": second}


def _traced_apply(backend: Any, loaded: Any, apply_state: Any, context: Any) -> dict[str, Any]:
    from orchestrator.backends.base import is_mutating

    per_resource: dict[str, dict[str, int]] = {}
    mark = [len(backend.log.calls)]

    def trace(change: Any) -> None:
        calls = backend.log.calls[mark[0]:]
        mark[0] = len(backend.log.calls)
        counts = per_resource.setdefault(change.address, {"reads": 0, "mutating": 0})
        for _, operation, _ in calls:
            counts["mutating" if is_mutating(operation) else "reads"] += 1

    backend.log.clear()
    mark[0] = 0
    apply_state(context(backend, loaded.scenario.name), loaded.desired[-1], "bench", trace=trace)
    operations = Counter(op for _, op, _ in backend.log.calls)
    return {"per_resource": per_resource, "total_calls": len(backend.log.calls),
            "mutating_calls": len(backend.log.mutating()), "operations": dict(sorted(operations.items()))}


def scale(folder: Path) -> list[dict[str, Any]]:
    from bench.generate import scenario

    points = []
    for users, tables, expectations in SCALE:
        path = folder / f"scale-{users}.yaml"
        path.write_text(yaml.safe_dump(scenario(users, tables, expectations)))
        count = min(RUNS, SCALE_RUNS.get(expectations, SCALE_DEFAULT_RUNS))
        runs = [whole_process("orchestrator.cli", "apply", str(path), "--output", "json") for _ in range(count)]
        assert all(run["exit"] == 0 for run in runs), f"scale scenario {users} failed"
        points.append({"users": users, "tables": tables, "expectations": expectations, "runs": count, "wall_s": median(runs, "wall"),
                       "inner_s": median(runs, "inner"), "rss_mib": max(r["rss_mib"] for r in runs)})
    return points


def growth_exponent(points: list[dict[str, Any]], field: str) -> float:
    """Least-squares slope of log(field) against log(expectations): 1.0 is linear."""
    xs = [math.log(p["expectations"]) for p in points]
    ys = [math.log(p[field]) for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def engine() -> dict[str, Any]:
    from bench import engine as engine_bench
    from bench import simulate as simulate_bench

    rates = [engine_bench.measure(1.0) for _ in range(RUNS)]
    simulate = simulate_bench.measure(RUNS)
    return {"typical_per_s": statistics.median(r["typical"] for r in rates),
            "worst_per_s": statistics.median(r["worst"] for r in rates), "simulate_10k_s": simulate,
            "simulate_2k_distinct_s": simulate_bench.measure_distinct(RUNS)}


def matrix() -> dict[str, Any]:
    # medians of 3, not RUNS: each pair costs ~14 s, and the bench has a 5-minute budget
    one, two = alternate(("orchestrator.cli", "matrix", "scenarios", "--jobs", "1", "--output", "json"),
                         ("orchestrator.cli", "matrix", "scenarios", "--jobs", "2", "--output", "json"), min(RUNS, 3))
    return {"jobs1_s": median(one, "wall"), "jobs2_s": median(two, "wall"), "ratio": median(two, "wall") / median(one, "wall")}


def access() -> dict[str, Any]:
    """The 300,000-cell access matrix (bench/access.py): in-process median of 3, one whole process."""
    from bench.access import measure

    with tempfile.TemporaryDirectory() as folder:
        return measure(whole_process, Path(folder), min(RUNS, 3))


def whoelse() -> dict[str, Any]:
    """Deciding the shipped scenarios' guarantees and a 200-statement key policy's (bench/whoelse.py),
    in a process of its own: its peak memory is the decisions' (the access figure grows this one)."""
    done = subprocess.run([sys.executable, "-m", "bench.whoelse", "--json"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def mutation() -> list[dict[str, Any]]:
    from bench.mutation import measure

    return measure(ROOT, whole_process, min(RUNS, 3))


def findings() -> list[dict[str, Any]]:
    from bench.findings import measure

    return measure(ROOT, whole_process)


def scenarios() -> list[dict[str, Any]]:
    from bench.scenarios import per_scenario

    return per_scenario(ROOT, whole_process, RUNS)


def machine() -> dict[str, str]:
    versions = {name: metadata.version(name) for name in ("boto3", "botocore", "moto", "pydantic", "deepdiff", "PyYAML")}
    return {"cores": str(os.cpu_count()), "python": platform.python_version(), "platform": platform.platform(),
            **versions}


def foreign_keys() -> dict[str, Any]:
    """The seed's apply against `serve` with 0 and with 2,000 foreign KMS keys (bench/foreign_keys.py)."""
    from bench.foreign_keys import measure

    return measure(ROOT, whole_process)


def settle_parallel() -> list[dict[str, Any]]:
    """Time to settle on `serve --propagation-delay 5`, with the default pool (bench/settle.py)."""
    from bench.settle import measure_parallel

    return measure_parallel(ROOT)


def serve_throughput() -> dict[str, Any]:
    """`serve` against plain moto server, 8 client processes (bench/serve_throughput.py)."""
    from bench.serve_throughput import measure

    return measure(ROOT, min(RUNS, 3))


def imports() -> dict[str, Any]:
    """`orchestrate import` of a 5,000-resource template and of nested conditions (bench/imports.py)."""
    from bench.imports import measure

    with tempfile.TemporaryDirectory() as folder:
        return measure(whole_process, Path(folder), min(RUNS, 3))


def compiled() -> None:
    """Bytecode for orchestrate's modules and the bench's, written before any whole process runs,
    as an installed package has it (pip compiles at install; an editable install writes it on the
    first run). With PYTHONDONTWRITEBYTECODE set, as on this machine, each run would otherwise
    compile ~100 modules of ours from source, ~0.1 s that the floor (boto3 and moto, compiled at
    install) never pays: the seed ratio would measure the environment, not orchestrate."""
    import compileall

    for folder in ("orchestrator", "bench"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def main() -> None:
    started = time.perf_counter()
    compiled()
    results: dict[str, Any] = {"machine": machine(), "runs": RUNS}
    print(f"machine: {results['machine']}", flush=True)
    for name, step in (("seed", seed_overhead), ("startup", startup), ("api", api_economy), ("engine", engine),
                       ("settle_parallel", settle_parallel), ("serve_throughput", serve_throughput)):
        results[name] = step()
        print(f"{name}: {json.dumps(results[name], default=str)[:400]}", flush=True)
    # the serial settle runs sleep through nearly all their time: they overlap the figures below
    from bench.settle import Serial

    serial = Serial(ROOT)
    for name, step in (("matrix", matrix), ("access", access), ("mutation", mutation), ("findings", findings),
                       ("scenarios", scenarios), ("foreign_keys", foreign_keys), ("imports", imports),
                       ("whoelse", whoelse)):
        results[name] = step()
        print(f"{name}: {json.dumps(results[name], default=str)[:400]}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        results["scale"] = scale(Path(folder))
    from bench.settle import summary

    results["settle"] = summary(serial.result(), results.pop("settle_parallel"))
    print(f"settle: {json.dumps(results['settle'], default=str)[:400]}", flush=True)
    results["scale_exponent_wall"] = growth_exponent(results["scale"], "inner_s")
    results["scale_exponent_rss"] = growth_exponent(results["scale"], "rss_mib")
    print(f"scale: {results['scale']} exponent {results['scale_exponent_wall']:.2f}", flush=True)
    results["total_s"] = time.perf_counter() - started
    from bench.results import write_results

    write_results(ROOT / "bench" / "RESULTS.md", results)
    print(f"wrote bench/RESULTS.md in {results['total_s']:.0f} s")


if __name__ == "__main__":
    main()
