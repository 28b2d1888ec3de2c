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


GET = {"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
BY_NAME = {"StringEquals": {"aws:username": ["alice"]}}
NOT_NAME = {"StringNotEquals": {"aws:username": ["alice"]}}


def _within(expected: dict, actual: dict) -> set[bool]:
    """The widening flags of the differences between two one-statement policies."""
    one, other = ({"policy": normalise_policy({"Version": "2012-10-17", "Statement": [s]})} for s in (expected, actual))
    found = compare("r", one, other)
    assert found, "the statements differ"
    return {d.widens_access for d in found}


def test_inside_a_statement_an_allow_matching_more_or_a_deny_matching_less_widens() -> None:
    """IAM User Guide, "Creating a condition with multiple keys or values" and the JSON element
    reference: Action/Resource/Principal values are ORed, NotAction's exclude, condition keys and
    operators are ANDed, one key's values ORed (negated operators: none of them)."""
    deny = {**GET, "Effect": "Deny"}
    cases = [
        (GET, {**GET, "Action": ["s3:GetObject", "s3:PutObject"]}, True),
        ({**GET, "Action": ["s3:GetObject", "s3:PutObject"]}, GET, False),
        (GET, {**GET, "Action": "s3:*"}, True),  # a value replaced: cannot tell, so it widens
        (deny, {**deny, "Action": ["s3:GetObject", "s3:PutObject"]}, False),
        ({**deny, "Action": ["s3:GetObject", "s3:PutObject"]}, deny, True),
        ({**GET, "Condition": BY_NAME}, {**GET, "Condition": {"StringEquals": {"aws:username": ["alice", "bob"]}}}, True),
        ({**GET, "Condition": NOT_NAME}, {**GET, "Condition": {"StringNotEquals": {"aws:username": ["alice", "bob"]}}}, False),
        ({**GET, "Condition": BY_NAME}, GET, True),
        (GET, {**GET, "Condition": BY_NAME}, False),
        ({**GET, "Condition": BY_NAME}, {**GET, "Condition": {**BY_NAME, "Bool": {"aws:SecureTransport": ["true"]}}}, False),
        (deny, {**deny, "Condition": BY_NAME}, True),
        (deny, GET, True),
        (GET, deny, False),
        ({**GET, "Action": None, "NotAction": ["s3:PutObject"]}, {**GET, "Action": None, "NotAction": ["s3:PutObject", "s3:DeleteObject"]}, False),
        ({**GET, "Action": None, "NotAction": ["s3:PutObject", "s3:DeleteObject"]}, {**GET, "Action": None, "NotAction": ["s3:PutObject"]}, True),
        (GET, {**GET, "Sid": "Renamed"}, False),
    ]
    for expected, actual, widening in cases:
        clean = [{k: v for k, v in s.items() if v is not None} for s in (expected, actual)]
        flags = _within(*clean)
        assert (True in flags) == widening, (expected, actual, flags)


def test_identity_properties_widen_when_they_put_more_in_force() -> None:
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert widens(["managed_policies", 0], "ADD", None, arn)
    assert not widens(["managed_policies", 0], "REMOVE", arn, None)
    assert widens(["groups", 0], "ADD", None, "admins") and not widens(["groups", 0], "REMOVE", "admins", None)
    assert widens(["access_keys", 0], "ADD", None, {"AccessKeyId": "AKIA...WXYZ"})
    assert widens(["permissions_boundary"], "NOT_EQUAL", arn, None)
    assert not widens(["permissions_boundary"], "NOT_EQUAL", None, arn)
    new_policy = normalise_policy({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    assert widens(["inline_policies", "oob"], "ADD", None, new_policy)
    assert not widens(["inline_policies", "oob"], "REMOVE", new_policy, None)
    fence = normalise_policy({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    assert not widens(["inline_policies", "fence"], "ADD", None, fence)
    assert widens(["inline_policies", "fence"], "REMOVE", fence, None)
