"""Which policy changes can concern a caller outside the resource's account (analysis/outside_reach.py):
mutate asks the symbolic engine only about those, so a wrong "no" would hide a widening mutant."""
from __future__ import annotations

import json

import pytest

from orchestrator.analysis.outside_reach import may_reach_outside

HOME, OTHER = "111111111111", "222222222222"
USER = f"arn:aws:iam::{HOME}:user/reader"


def _policy(principal: object, effect: str = "Allow", key: str = "Principal", **extra: object) -> dict:
    statement = {"Sid": "S", "Effect": effect, key: principal, "Action": "kms:Decrypt", "Resource": "*", **extra}
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
             "Action": "kms:*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [admin, statement]}


@pytest.mark.parametrize("after", [
    _policy({"AWS": USER}, Action="kms:*"),                        # action widened for a home user
    _policy({"AWS": USER}, Resource="*"),                          # resource widened
    _policy({"AWS": f"arn:aws:iam::{HOME}:root"}),                 # principal widened to the home account
    _policy({"AWS": [HOME, f"arn:aws:sts::{HOME}:assumed-role/r/s"]}),
    _policy({"AWS": USER}, effect="Deny"),                         # an allow turned into a deny
    _policy("*", effect="Deny"),                                   # even a deny for everyone
])
def test_changes_that_concern_home_principals_only_reach_no_outsider(after: dict) -> None:
    assert not may_reach_outside(_policy({"AWS": USER}), after, HOME)
    assert not may_reach_outside(json.dumps(_policy({"AWS": USER})), json.dumps(after), HOME)


@pytest.mark.parametrize("after", [
    _policy("*"),                                                  # principal widened to everyone
    _policy({"AWS": "*"}),
    _policy({"AWS": f"arn:aws:iam::{OTHER}:root"}),                # another account
    _policy({"AWS": OTHER}),
    _policy({"AWS": "arn:aws:iam::*:root"}),
    _policy({"AWS": [USER, f"arn:aws:iam::{OTHER}:user/x"]}),
    _policy({"Service": "logs.amazonaws.com"}),                    # a service is nobody's account
    _policy({"AWS": USER}, key="NotPrincipal"),                    # everyone but the user
    _policy({"CanonicalUser": "abc"}),
    {"Version": "2012-10-17", "Statement": [_policy({"AWS": USER})["Statement"][0]]},  # a statement removed
    None,                                                          # the policy removed
])
def test_changes_that_may_concern_an_outsider_are_left_to_the_solver(after: dict | None) -> None:
    assert may_reach_outside(_policy({"AWS": USER}), after, HOME)


def test_a_deny_that_concerned_outsiders_turned_into_anything_else_reaches_them() -> None:
    before = _policy("*", effect="Deny", Condition={"StringNotEquals": {"aws:PrincipalAccount": HOME}})
    dropped = _policy("*", effect="Deny")
    assert may_reach_outside(before, _policy("*", effect="Allow"), HOME)
    assert may_reach_outside(before, _policy({"AWS": USER}), HOME)  # the outsider's deny is gone
    assert may_reach_outside(before, dropped, HOME)  # a deny widened: the solver says it closes, not this


def test_an_unreadable_policy_reaches_outside() -> None:
    assert may_reach_outside("{not json", _policy({"AWS": USER}), HOME)
    assert may_reach_outside(_policy({"AWS": USER}), "[]", HOME)
    assert not may_reach_outside(_policy({"AWS": USER}), _policy({"AWS": USER}), HOME)  # nothing changed
