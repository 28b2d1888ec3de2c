"""Drift's access section as `orchestrate drift --output json` prints it."""

from __future__ import annotations

from typing import Any

from orchestrator.reconcile.drift import AccessDifference
from orchestrator.report.access_json import cell_json, statement_json

__all__ = ["access_difference_json"]


def access_difference_json(difference: AccessDifference) -> dict[str, Any]:
    expected, actual = cell_json(difference.expected), cell_json(difference.actual)
    side = ("decision", "layer", "label", "error", "statements", "reason")
    return {**{k: actual[k] for k in ("principal", "resource", "action", "variant")}, "change": difference.change,
            "expected": {k: expected[k] for k in side}, "actual": {k: actual[k] for k in side},
            "by": [statement_json(ref) for ref in difference.by], "words": difference.words(),
            "widens_access": difference.widens_access}
