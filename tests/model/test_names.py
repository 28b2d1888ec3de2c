"""AWS's name rules (orchestrator/model/names.py), each against the page it follows."""

from __future__ import annotations

import pytest

from orchestrator.model import names
from orchestrator.model.names import name_problems


@pytest.mark.parametrize("rule, good, bad", [
    (names.IAM_USER, ["a", "ci-7-tester", "x+=,.@_-y", "u" * 64], ["", "a/b", "a b", "ü", "a;b", "u" * 65]),
    (names.IAM_ROLE, ["reader", "r" * 64], ["r" * 65, "$(id)"]),
    (names.IAM_POLICY, ["p" * 128], ["p" * 129]),
    (names.IAM_GROUP, ["g" * 128], ["g" * 129]),
    (names.KMS_ALIAS, ["alias/a/b-data", "alias/" + "a" * 250], ["alias/aws/mine", "alias/a.b", "alias/" + "a" * 251, "data"]),
    (names.KMS_GRANT, ["orchestrate/ci-reader"], ["orchestrate/a b", "orchestrate/" + "g" * 245]),
    (names.DYNAMODB_TABLE, ["abc", "A_b.c-d", "t" * 255], ["ab", "a/b", "t" * 256]),
    (names.S3_BUCKET, ["abc", "my.site-1", "b" * 63],
     ["ab", "Abc", "b" * 64, "-abc", "abc-", "a..b", "192.168.5.4", "xn--abc", "sthree-a", "amzn-s3-demo-a",
      "a-s3alias", "a--ol-s3", "a.mrap", "a--x-s3", "a_b"]),
    (names.RUN_TAG, ["", "ci 7", "café:1/2=3+4-5@6_7.8"], ["a,b", "a;b", "$(id)", "t" * 257]),
])
def test_each_rule_accepts_and_refuses_as_its_page_says(rule: names.NameRule, good: list[str], bad: list[str]) -> None:
    assert [name for name in good if rule.breach(name)] == []
    assert [name for name in bad if not rule.breach(name)] == []


def test_a_breach_names_the_characters_or_the_length() -> None:
    assert names.IAM_USER.breach("a b;c") == "' ', ';' not allowed (only letters, digits and _+=,.@-)"
    assert names.IAM_USER.breach("u" * 70) == "70 characters, where 1 to 64 are allowed"
    assert names.S3_BUCKET.breach("a..b") == "two adjacent periods"


def test_physical_names_are_the_ones_the_reconcilers_make() -> None:
    """RunContext.physical and bucket_name are these functions (one composition, checked before a run)."""
    from orchestrator.resources.context import RunContext

    ctx = RunContext(backend=None, scenario="s", run_id="CI-7")  # type: ignore[arg-type]
    assert ctx.physical("tester") == names.physical_name("CI-7", "tester") == "CI-7-tester"
    assert ctx.bucket_name("site") == names.made_name("buckets", "CI-7", "site") == "ci-7-site"


def _state(**sections: object) -> object:
    from orchestrator.model.scenario import DesiredState

    return DesiredState.model_validate(sections)


def test_a_long_run_id_overflows_the_64_characters_of_an_iam_user_but_not_a_table() -> None:
    state = _state(users={"tester": {}}, tables={"orders": {"partition_key": {"name": "id", "type": "S"}}})
    run_id = "r" * 57  # r*57 + "-tester" is 64: allowed; one more is not
    assert name_problems("s", [state], run_id) == []
    [problem] = name_problems("s", [state], run_id + "r")
    assert problem.path == ("users", "tester") and problem.rule is names.IAM_USER


def test_aliases_and_grants_take_the_run_id_too() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "account"},
                                                      "Action": "kms:*", "Resource": "*"}]}
    state = _state(keys={"data": {"policy": policy, "aliases": ["alias/" + "a" * 250], "grants": {"reader": {
        "grantee": "user:tester", "operations": ["Decrypt"]}}}}, users={"tester": {}})
    paths = [p.path for p in name_problems("s", [state], "ci")]
    assert paths == [("keys", "data", "aliases", 0)]
    assert [p.path for p in name_problems("s", [state], "a.b")] == [
        ("keys", "data", "aliases", 0), ("keys", "data", "grants", "reader")]
