"""Questions answered without the solver (whoelse/closed.py): a resource that names nobody outside
its account is closed to outsiders. A wrong "closed" would be a false proof, so each way in for an
outsider is checked to leave the question to the solver, and each shortcut to agree with it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.authz.engine.inputs import Grant, PolicySource
from orchestrator.whoelse import PROVED, Question, Scope, decide
from orchestrator.whoelse.closed import closed_to_outsiders

HOME, OTHER = "111111111111", "222222222222"
KEY = f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
         "Action": "kms:*", "Resource": "*"}


def _question(*statements: dict, scope: Scope = Scope.outside_account(HOME), grants: tuple = ()) -> Question:
    policy = PolicySource("key", "key policy", {"Version": "2012-10-17", "Statement": [ADMIN, *statements]})
    return Question(KEY, HOME, ("kms:Decrypt",), scope, resource_policy=policy, grants=grants)


def _allow(principal: object, action: object = "kms:Decrypt", **extra: object) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


@pytest.mark.parametrize("question", [
    _question(),
    _question(_allow({"AWS": f"arn:aws:iam::{HOME}:user/reader"})),
    _question(_allow({"AWS": [HOME, f"arn:aws:iam::{HOME}:role/app"]})),
    _question(_allow("*", "kms:Encrypt")),                                      # names another action
    _question({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
    _question(scope=Scope.the_public()),
    _question(scope=Scope.inside_accounts([OTHER])),
    _question(grants=(Grant(f"arn:aws:iam::{HOME}:role/app", ("Decrypt",), KEY),)),
    _question(grants=(Grant(f"arn:aws:iam::{OTHER}:role/app", ("Encrypt",), KEY),)),  # another operation
], ids=range(9))
def test_a_resource_naming_nobody_outside_is_closed_and_the_solver_agrees(question: Question, monkeypatch) -> None:
    import orchestrator.whoelse.guarantee as guarantee

    assert closed_to_outsiders(question, "kms:Decrypt")
    assert decide(question).status == PROVED
    monkeypatch.setattr(guarantee, "closed_to_outsiders", lambda q, a: False)
    assert decide(question).status == PROVED  # the solver alone proves it too


@pytest.mark.parametrize("question", [
    _question(_allow("*")),
    _question(_allow({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalAccount": HOME}})),
    _question(_allow({"AWS": OTHER})),
    _question(_allow({"AWS": f"arn:aws:iam::{OTHER}:root"}, "kms:*")),
    _question(_allow({"AWS": f"arn:aws:iam::{HOME}:user/reader"}, "kms:Decr?pt"), _allow({"AWS": OTHER}, "kms:De*")),
    _question({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{HOME}:root"}, "Action": "kms:*",
               "Resource": "*"}),
    _question({"Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "kms:Encrypt", "Resource": "*"}),
    _question(_allow({"Service": "logs.amazonaws.com"})),
    _question(grants=(Grant(f"arn:aws:iam::{OTHER}:role/app", ("Decrypt",), KEY),)),
    _question(grants=(Grant("logs.amazonaws.com", ("Decrypt",), KEY),)),
    _question(scope=Scope.everyone()),                                          # home callers are in scope
    _question(scope=Scope.inside_accounts([HOME])),
    replace(_question(), resource_account=None),
    replace(_question(), resource_policy=PolicySource("key", "key policy", "{not json")),
], ids=range(14))
def test_every_way_in_for_an_outsider_is_left_to_the_solver(question: Question) -> None:
    assert not closed_to_outsiders(question, "kms:Decrypt")


def test_a_free_action_and_retire_grant_are_never_closed() -> None:
    assert not closed_to_outsiders(replace(_question(), actions=("sts:GetCallerIdentity",)), "sts:GetCallerIdentity")
    # a grant's retiring principal may retire it from any account, whatever the key policy says
    retiring = Grant(f"arn:aws:iam::{HOME}:role/app", ("Decrypt",), KEY, retiring_principal=f"arn:aws:iam::{OTHER}:root")
    question = replace(_question(grants=(retiring,)), actions=("kms:RetireGrant",))
    assert not closed_to_outsiders(question, "kms:RetireGrant")
    assert decide(question).status != PROVED
