"""orchestrator/arns.py: the one place ARNs are built and read apart."""
from __future__ import annotations

import pytest

from orchestrator import arns
from orchestrator.arns import Arn, parse_arn


def test_a_root_arn_reads_as_the_account_root() -> None:
    arn = parse_arn("arn:aws:iam::123456789012:root")
    assert arn == Arn("aws", "iam", "", "123456789012", "root")
    assert (arn.resource_type, arn.resource_id, arn.is_root) == ("root", "", True)
    assert arns.is_root(str(arn)) and arns.root_arn("123456789012") == str(arn)


def test_an_s3_object_key_keeps_its_slashes_and_colons() -> None:
    text = "arn:aws:s3:::bucket/a:b/c::d"
    arn = parse_arn(text)
    assert arn == Arn("aws", "s3", "", "", "bucket/a:b/c::d")
    assert (arn.resource_type, arn.resource_id, arn.name) == ("", "bucket/a:b/c::d", "c::d")
    assert str(arn) == text == arns.object_arn("bucket", "a:b/c::d")
    assert arns.account_of(text, "fallback") == "fallback"


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_partitions_are_built_and_read(partition: str) -> None:
    role = arns.role_arn("123456789012", "reader", "/team/", partition)
    assert role == f"arn:{partition}:iam::123456789012:role/team/reader"
    arn = parse_arn(role)
    assert (arn.partition, arn.resource_type, arn.resource_id, arn.name) == (partition, "role", "team/reader", "reader")
    assert arns.ROLE_ARN.match(role)["name"] == "reader"
    session = arns.assumed_role_arn("123456789012", "reader", "s1", partition)
    assert arns.session_role_arn(session) == f"arn:{partition}:iam::123456789012:role/reader"
    assert arns.is_root(arns.root_arn("123456789012", partition))


def test_builders_spell_each_service_as_aws_does() -> None:
    assert arns.user_arn("1", "u") == "arn:aws:iam::1:user/u"
    assert arns.group_arn("1", "g", "/p/") == "arn:aws:iam::1:group/p/g"
    assert arns.policy_arn("1", "p") == "arn:aws:iam::1:policy/p"
    assert arns.aws_managed_policy_arn("ReadOnlyAccess") == arns.AWS_MANAGED_POLICY_PREFIX + "ReadOnlyAccess"
    assert arns.assumed_role_arn("1", "r", "s") == "arn:aws:sts::1:assumed-role/r/s"
    assert arns.key_arn("eu-west-1", "1", "k-1") == "arn:aws:kms:eu-west-1:1:key/k-1"
    assert arns.alias_arn("eu-west-1", "1", "alias/a") == arns.alias_arn("eu-west-1", "1", "a") == "arn:aws:kms:eu-west-1:1:alias/a"
    assert arns.table_arn("eu-west-1", "1", "t") == "arn:aws:dynamodb:eu-west-1:1:table/t"
    assert arns.bucket_arn("b") == "arn:aws:s3:::b"


def test_templates_pass_through_the_builders() -> None:
    """CloudFormation's Fn::Sub and Terraform's interpolations are put in as they are."""
    assert arns.root_arn("${AWS::AccountId}", "${AWS::Partition}") == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


@pytest.mark.parametrize("text", ["*", "123456789012", "user:tester", "arn:aws:iam::1", ""])
def test_what_is_not_an_arn_reads_as_none(text: str) -> None:
    assert parse_arn(text) is None
    assert arns.account_of(text, "x") == "x"
    assert arns.with_account(text, "2") == text


def test_with_account_moves_only_the_account() -> None:
    assert arns.with_account("arn:aws:sts::111111111111:user/moto", "222222222222") == "arn:aws:sts::222222222222:user/moto"
    assert arns.with_account("arn:aws:s3:::b/k:1", "2") == "arn:aws:s3::2:b/k:1"


@pytest.mark.parametrize("text", ["arn:aws:iam::123456789012:root/x", "arn:aws:iam::1234:root", "arn:aws:sts::123456789012:root",
                                  "arn:aws:iam::123456789012:user/root"])
def test_only_an_account_root_is_root(text: str) -> None:
    assert not arns.is_root(text)


def test_a_session_arn_needs_a_role_and_a_session() -> None:
    assert arns.session_role_arn("arn:aws:sts::123456789012:assumed-role/r") is None
    assert arns.session_role_arn("arn:aws:iam::123456789012:role/r") is None
    assert arns.session_role_arn("arn:aws:sts::123456789012:assumed-role/r/a/b") == "arn:aws:iam::123456789012:role/r"


def test_a_key_id_is_read_from_a_key_arn_only() -> None:
    assert arns.key_id_of("arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab") == "1234abcd-12ab"
    assert arns.key_id_of("1234abcd-12ab") == "1234abcd-12ab"
    assert arns.key_id_of("arn:aws:kms:us-west-2:123456789012:alias/a") == "arn:aws:kms:us-west-2:123456789012:alias/a"


def test_a_session_is_told_from_its_role() -> None:
    assert arns.is_session("arn:aws-us-gov:sts::123456789012:assumed-role/r/s")
    assert not arns.is_session("arn:aws:iam::123456789012:role/assumed-role/r")
