"""Plans (Terraform's closed set of actions) and drift (CloudFormation's difference kinds), pure."""

from __future__ import annotations

from orchestrator.reconcile.drift import compare, widens
from orchestrator.model.normalise import normalise_policy
from orchestrator.reconcile.plan import Action, decide
from orchestrator.resources.context import UNKNOWN

ALLOW_ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "kms:*", "Resource": "*"}
DENY_ALL = {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}


def test_decide_covers_every_action() -> None:
    assert decide("k", None, {"a": 1}).action is Action.CREATE
    assert decide("k", {"a": 1}, None).action is Action.DELETE
    assert decide("k", None, None).action is Action.NO_OP
    assert decide("k", {"a": 1}, {"a": 1}).action is Action.NO_OP
    update = decide("k", {"a": 1, "b": 2}, {"a": 1, "b": 3})
    assert update.action is Action.UPDATE and [(p.path, p.before, p.after) for p in update.properties] == [("b", 2, 3)]
    replace = decide("k", {"spec": "A"}, {"spec": "B"}, replace_on=frozenset({"spec"}))
    assert replace.action is Action.REPLACE and "spec" in replace.reason
    assert decide("k", {"a": 1}, {"a": 2}, owned=False).action is Action.CONFLICT


def test_write_only_and_unknown_values_do_not_force_changes() -> None:
    assert decide("k", {"a": 1}, {"a": 1, "window": 7}, write_only=frozenset({"window"})).action is Action.NO_OP
    # a key ARN not known until apply is an update at most, never a replacement
    assert decide("t", {"key": "x"}, {"key": UNKNOWN}, replace_on=frozenset({"key"})).action is Action.UPDATE


def test_normalised_policies_compare_as_sets() -> None:
    one = {"Version": "2012-10-17", "Statement": [ALLOW_ADMIN, DENY_ALL]}
    other = {"Version": "2012-10-17", "Statement": [DENY_ALL, {**ALLOW_ADMIN, "Action": ["kms:*"], "Principal": {"AWS": ["arn:aws:iam::123456789012:user/admin"]}}]}
    assert normalise_policy(one) == normalise_policy(other)
    assert normalise_policy({"Statement": {**ALLOW_ADMIN, "Principal": {"AWS": "123456789012"}}})["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::123456789012:root"]}


def test_added_allow_statement_is_an_add_that_widens_access() -> None:
    expected = {"policy": normalise_policy({"Version": "2012-10-17", "Statement": [ALLOW_ADMIN]})}
    extra = {"Sid": "Oops", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    actual = {"policy": normalise_policy({"Version": "2012-10-17", "Statement": [ALLOW_ADMIN, extra]})}
    [difference] = compare("kms_key.data", expected, actual)
    assert (difference.kind, difference.path, difference.actual["Sid"], difference.widens_access) == ("ADD", "policy.Statement[1]", "Oops", True)


def test_lost_deny_widens_and_changed_value_is_not_equal() -> None:
    expected = {"policy": normalise_policy({"Version": "2012-10-17", "Statement": [ALLOW_ADMIN, DENY_ALL]}), "description": "a"}
    actual = {"policy": normalise_policy({"Version": "2012-10-17", "Statement": [ALLOW_ADMIN]}), "description": "b"}
    found = {(d.kind, d.path): d for d in compare("kms_key.data", expected, actual)}
    assert found[("REMOVE", "policy.Statement[1]")].widens_access
    description = found[("NOT_EQUAL", "description")]
    assert (description.expected, description.actual, description.widens_access) == ("a", "b", False)


def test_widening_rules() -> None:
    assert widens(["enabled"], "NOT_EQUAL", False, True)
    assert not widens(["enabled"], "NOT_EQUAL", True, False)
    assert not widens(["policy", "Statement", 0], "ADD", None, DENY_ALL)
    assert widens(["policy"], "NOT_EQUAL", {"Principal": {"AWS": ["arn:x"]}}, {"Principal": {"AWS": ["*"]}})
