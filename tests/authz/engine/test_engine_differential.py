"""The engine's decisions on 6,000 random requests (tests/authz/engine/differential_cases.py, seeds
1-3) against those the engine made before its split into engine/, services/ and gate/ (recorded in
data/differential-decisions.jsonl.gz at commit 37332a9): decision, layer, matched statements, missing
context and the reason, byte for byte. A case may differ only where a rule below says AWS decides
otherwise, and it must differ the way that rule says (``_changed_by``)."""
from __future__ import annotations

import gzip
from collections import Counter
import json
from pathlib import Path
from typing import Any, Callable

import differential_cases as dc
import pytest

from orchestrator.authz import decide
from orchestrator.authz.decide import service_engine
from orchestrator.authz.services.kms_key_policy import CROSS_ACCOUNT_OPERATIONS

RECORDED = Path(__file__).parent / "data" / "differential-decisions.jsonl.gz"
SEEDS = (1, 2, 3)
PER_SEED = 2000

#: Rules whose fix changed recorded decisions: (name, predicate on the case, check of the new decision).
Rule = tuple[str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], dict[str, Any]], bool]]
_CROSS_ACCOUNT_KMS = {f"kms:{op}" for op in CROSS_ACCOUNT_OPERATIONS}


def _kms_management_across_accounts(case: dict[str, Any]) -> bool:
    return (case["resource"].startswith("arn:aws:kms:") and case["resource_account"] != case["principal"]["account"]
            and case["action"] not in _CROSS_ACCOUNT_KMS)


def _refused_across_accounts(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return (before["decision"] != "explicitDeny" and after["decision"] == "implicitDeny"
            and after["layer"] == "key-policy" and "cannot be used on a KMS key of another account" in after["reason"])


def _session_under_not_principal(case: dict[str, Any]) -> bool:
    policy = case["resource_policy"]
    return case["principal"]["type"] == "AssumedRole" and policy is not None and "NotPrincipal" in policy["text"]


def _now_explicitly_denied(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return before["decision"] != "explicitDeny" and after["decision"] == "explicitDeny"


def _assume_role_without_trust_policy(case: dict[str, Any]) -> bool:
    return case["action"] == "sts:AssumeRole" and case["resource_policy"] is None and ":role/" in case["resource"]


def _trust_policy_fails_closed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return after["decision"] == "implicitDeny" and after["layer"] == "trust-policy" and before["decision"] != "explicitDeny"


CHANGES: list[Rule] = [
    # KMS Developer Guide, "Allowing users in other accounts to use a KMS key": only the documented
    # operations work across accounts; a policy that allows another (ScheduleKeyDeletion) has no effect.
    ("kms-cross-account-operations", _kms_management_across_accounts, _refused_across_accounts),
    # IAM User Guide, "NotPrincipal": a session is excluded only when its session ARN is listed.
    ("not-principal-matches-the-session-arn", _session_under_not_principal, _now_explicitly_denied),
    # IAM User Guide, "Policy evaluation logic": a role trust policy must allow explicitly; unknown, it cannot.
    ("assume-role-needs-its-trust-policy", _assume_role_without_trust_policy, _trust_policy_fails_closed),
]


def _changed_by(found: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> str | None:
    for name, applies, holds in CHANGES:
        if applies(found) and holds(before, after):
            return name
    return None


def _recorded() -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(RECORDED.read_bytes()).decode().splitlines()]


@pytest.fixture(scope="module")
def recorded() -> list[dict[str, Any]]:
    return _recorded()


def test_decisions_are_those_recorded_before_the_split_but_where_a_rule_says_otherwise(
        recorded: list[dict[str, Any]]) -> None:
    engine = service_engine()
    found = [case for seed in SEEDS for case in dc.cases(seed, PER_SEED)]
    assert len(found) == len(recorded)
    unexplained, explained = [], Counter()
    for index, (case, before) in enumerate(zip(found, recorded, strict=True)):
        after = json.loads(json.dumps(dc.decide(decide, case, engine.evaluate), sort_keys=True))
        if after == before:
            continue
        rule = _changed_by(case, before, after)
        if rule is None:
            unexplained.append((index, case["action"], case["principal"]["arn"], before, after))
        else:
            explained[rule] += 1
    assert not unexplained, unexplained[:3]
    assert set(explained) == {name for name, _, _ in CHANGES}, explained  # every rule meets cases it changes
    assert sum(explained.values()) < len(found) // 4  # the rules change what they name, not the engine at large


def test_the_recorded_run_meets_every_decision_and_layer() -> None:
    """The cases reach every way the engine decides (so the comparison is not vacuous)."""
    layers = {(r["decision"], r["layer"]) for r in _recorded()}
    for expected in [("allowed", "identity-policy"), ("allowed", "key-policy"), ("allowed", "grant"),
                     ("allowed", "resource-policy"), ("allowed", "trust-policy"), ("explicitDeny", "explicit-deny"),
                     ("implicitDeny", "key-policy"), ("implicitDeny", "trust-policy"),
                     ("implicitDeny", "permissions-boundary"), ("allowed", "no-permission-required")]:
        assert expected in layers
