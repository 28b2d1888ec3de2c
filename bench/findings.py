"""External-access findings' cost (issue 24): `orchestrate findings` of every shipped scenario as a
whole process (start-up included, one run each: the symbolic engine dominates), its peak memory,
and how many findings and new-access findings it lists. Target: under 1 s each on this machine."""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_S = 1.0


def measure(root: Path, whole_process: Callable[..., dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "findings.json"
        for path in sorted((root / "scenarios").glob("*.yaml")):
            process = whole_process("orchestrator.cli", "findings", str(path), "--output", "json", "-o", str(out),
                                    "--exit-zero")
            data = json.loads(out.read_text()) if process["exit"] == 0 else {"finding_count": None, "new_access": []}
            rows.append({"scenario": path.stem, "findings": data["finding_count"], "new": len(data["new_access"]),
                         "wall_s": process["wall"], "inner_s": process["inner"], "rss_mib": process["rss_mib"],
                         "exit": process["exit"]})
    return rows


def lines(rows: list[dict[str, Any]] | None) -> list[str]:
    """RESULTS.md's section."""
    if not rows:
        return []
    found = ["## External-access findings (bench/findings.py: `orchestrate findings` of every shipped scenario)", "",
             "| scenario | findings | new access | whole process | peak RSS |", "|---|---|---|---|---|"]
    found += [f"| {r['scenario']} | {r['findings']} | {r['new']} | {r['wall_s']:.2f} s | {r['rss_mib']:.0f} MiB |"
              for r in rows]
    return found + [""]


def target(rows: list[dict[str, Any]] | None) -> list[str]:
    """The summary table's row: the slowest scenario against the issue's 1 s."""
    if not rows:
        return []
    slowest = max(rows, key=lambda r: r["wall_s"])
    met = "yes" if slowest["wall_s"] < TARGET_S else f"no: {sum(r['wall_s'] >= TARGET_S for r in rows)} of {len(rows)} over"
    return [f"| findings: each shipped scenario under {TARGET_S:.0f} s (issue 24) | {slowest['wall_s']:.2f} s"
            f" ({slowest['scenario']}) | {met} |"]
