"""Can a change to a resource's policy change what a caller outside the resource's account may do?

Used by ``mutate`` before it asks the symbolic engine (each question costs tens of milliseconds
per action): a mutant whose changed statements cannot concern an outsider leaves every outsider's
decision as it was, so it opens nothing the scenario kept closed. The argument is syntactic and
sound; anything it cannot read is taken as reaching outside (the symbolic engine then decides).

A statement concerns no outsider when it has ``Principal`` (not ``NotPrincipal``) and every
principal it names belongs to the resource's account: a user or role ARN there, the account's root
ARN or its bare id (IAM User Guide, "AWS JSON policy elements: Principal": a principal element
matches only the principals it names, and an account's root or id stands for that account's
principals). Conditions only narrow a statement, so they need no reading.

A change that turns an ``Allow`` into a ``Deny`` only takes access away (an Allow removed, a Deny
added; "Policy evaluation logic": an explicit deny overrides any allow), whatever the statement names.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from orchestrator.arns import account_of, parse_arn
from orchestrator.model.policy import as_list

__all__ = ["may_reach_outside"]

Policy = Mapping[str, Any] | str | None


def may_reach_outside(before: Policy, after: Policy, account: str) -> bool:
    """Whether the change from policy ``before`` to ``after`` (a document or its JSON text; None:
    no policy) may change
    a decision for a caller outside ``account``."""
    old, new = _statements(before), _statements(after)
    if old is None or new is None or len(old) != len(new):
        return True
    return any(_concerns_outsiders(a, b, account) for a, b in zip(old, new) if a != b)


def _statements(policy: Policy) -> list[Any] | None:
    if policy is None:
        return []
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return None
    if not isinstance(document, Mapping):
        return None
    return as_list(document.get("Statement"))


def _concerns_outsiders(before: Any, after: Any, account: str) -> bool:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return True
    if before.get("Effect") == "Allow" and after.get("Effect") == "Deny":
        return False
    return not (_inside_only(before, account) and _inside_only(after, account))


def _inside_only(statement: dict[str, Any], account: str) -> bool:
    """Every principal the statement names belongs to ``account``."""
    if "NotPrincipal" in statement or not isinstance(statement.get("Principal"), dict):
        return False
    principal: dict[str, Any] = statement["Principal"]
    if set(principal) != {"AWS"}:
        return False
    return all(_of_account(str(name), account) for name in as_list(principal["AWS"]))


def _of_account(name: str, account: str) -> bool:
    if name.isdigit() and len(name) == 12:
        return name == account
    arn = parse_arn(name)
    return arn is not None and arn.service in ("iam", "sts") and account_of(name) == account
