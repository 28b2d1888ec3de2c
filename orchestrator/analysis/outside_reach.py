"""Can a change to a resource's policy change what a caller outside the resource's account may do?

Used by ``mutate`` before it asks the symbolic engine (each question costs tens of milliseconds
per action): a mutant whose changed statements cannot concern an outsider leaves every outsider's
decision as it was, so it opens nothing the scenario kept closed. The argument is syntactic and
sound; anything it cannot read is taken as reaching outside (the symbolic engine then decides).

A statement concerns no outsider when every principal it names belongs to the resource's account
(``whoelse/closed.py`` inside_only; IAM User Guide, "AWS JSON policy elements: Principal": a
principal element matches only the principals it names, and an account's root or id stands for
that account's principals). Conditions only narrow a statement, so they need no reading.

A change that turns an ``Allow`` into a ``Deny`` only takes access away (an Allow removed, a Deny
added; "Policy evaluation logic": an explicit deny overrides any allow), whatever the statement names.
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator.whoelse.closed import inside_only, statements_of

__all__ = ["may_reach_outside"]

Policy = Mapping[str, Any] | str | None


def may_reach_outside(before: Policy, after: Policy, account: str) -> bool:
    """Whether the change from policy ``before`` to ``after`` (a document or its JSON text; None:
    no policy) may change a decision for a caller outside ``account``."""
    old, new = statements_of(before), statements_of(after)
    if old is None or new is None or len(old) != len(new):
        return True
    return any(_concerns_outsiders(a, b, account) for a, b in zip(old, new) if a != b)


def _concerns_outsiders(before: Any, after: Any, account: str) -> bool:
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return True
    if before.get("Effect") == "Allow" and after.get("Effect") == "Deny":
        return False
    return not (inside_only(before, account) and inside_only(after, account))
