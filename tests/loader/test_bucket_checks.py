"""Validation of `buckets:` (orchestrator/loader/bucket_checks.py, hooked into references.py):
every problem located at file:line:col with its field path, `orchestrate validate` exit 2.

S3 User Guide: "Using server-side encryption with AWS KMS keys (SSE-KMS)" (symmetric keys only),
"Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys" (SSE-KMS only), "Bucket policy
examples" (a bucket policy names its own bucket; PutBucketPolicy: "Policy has invalid resource").
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario

BASE = """\
name: bc
users:
  reader: {}
keys:
  data:
    policy:
      Statement:
        - {Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
  signing:
    spec: RSA_2048
    usage: SIGN_VERIFY
    policy:
      Statement:
        - {Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
tables:
  orders:
    partition_key: {name: id}
buckets:
  docs:
BUCKET
  other: {}
states:
  - name: s
    expectations:
EXPECTATIONS
"""
OK_EXPECTATION = "      - {as: reader, action: s3:ListBucket, resource: bucket:docs, expect: denied}"


def write(tmp_path: Path, bucket: str, expectations: str = OK_EXPECTATION) -> Path:
    text = BASE.replace("BUCKET", textwrap.indent(textwrap.dedent(bucket).strip("\n"), "    "))
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace("EXPECTATIONS", expectations))
    return path


def diagnostics(tmp_path: Path, bucket: str, expectations: str = OK_EXPECTATION) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, bucket, expectations))
    return [str(d).removeprefix(str(tmp_path / "scenario.yaml") + ":") for d in caught.value.diagnostics]


VALID = """\
encryption: key:data
bucket_key: true
policy:
  Statement:
    - Sid: Read
      Effect: Allow
      Principal: {AWS: "user:reader"}
      Action: [s3:GetObject, s3:ListBucket]
      Resource: [bucket:docs, "object:docs/*", "arn:aws:s3:::literal/*"]
objects:
  - {key: a.txt, body: alpha}
"""


def test_a_valid_bucket_loads(tmp_path: Path) -> None:
    expectations = "\n".join([OK_EXPECTATION, "      - {as: reader, action: s3:GetObject, resource: object:docs/a.txt, expect: denied}",
                              "      - {as: reader, action: s3:PutObject, resource: object:docs/new.txt, expect: denied}",
                              "      - {as: reader, action: s3:DeleteObject, resource: object:docs/gone.txt, expect: denied}"])
    loaded = load_scenario(write(tmp_path, VALID, expectations))
    assert loaded.desired[0].buckets["docs"].bucket_key is True


def test_an_unknown_encryption_key_is_located(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "encryption: key:ghost") == [
        "20:17: 'key:ghost' names no key of this scenario (known: data, signing) (at buckets.docs.encryption)"]


def test_an_asymmetric_key_is_refused(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "encryption: key:signing") == [
        "20:17: S3 encrypts only with symmetric keys (SSE-KMS); key 'signing' is RSA_2048 (at buckets.docs.encryption)"]


def test_a_bucket_key_needs_sse_kms(tmp_path: Path) -> None:
    [problem] = diagnostics(tmp_path, "encryption: aws-owned\nbucket_key: true")
    assert problem.startswith("21:17: bucket_key applies to SSE-KMS only") and problem.endswith("(at buckets.docs.bucket_key)")


def test_duplicate_object_keys_are_refused(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "objects:\n  - {key: a, body: one}\n  - {key: a, body: two}") == [
        "22:15: objects[0] already has the key 'a'; a bucket holds one object per key (at buckets.docs.objects[1].key)"]


@pytest.mark.parametrize("resource", ["bucket:other", "object:other/*", "table:orders", "arn:aws:dynamodb:us-east-1:123456789012:table/t"])
def test_a_bucket_policy_naming_another_resource_is_refused(tmp_path: Path, resource: str) -> None:
    policy = f"""\
    policy:
      Statement:
        - {{Effect: Allow, Principal: {{AWS: "user:reader"}}, Action: s3:GetObject, Resource: ["{resource}"]}}
    """
    [problem] = diagnostics(tmp_path, policy)
    assert problem.startswith(f"22:93: {resource!r} is not bucket 'docs' or its objects")
    assert "Policy has invalid resource" in problem
    assert problem.endswith("(at buckets.docs.policy.Statement[0].Resource[0])")


def test_a_bucket_policy_statement_needs_resources_and_known_principals(tmp_path: Path) -> None:
    policy = """\
    policy:
      Statement:
        - {Effect: Allow, Principal: {AWS: "user:ghost"}, Action: s3:GetObject}
    """
    problems = diagnostics(tmp_path, policy)
    assert any(p.startswith("22:11: each statement of a bucket policy needs Resource") for p in problems)
    assert any("'user:ghost' names no user of this scenario" in p and "Principal.AWS" in p for p in problems)


def test_an_expectation_names_a_declared_bucket(tmp_path: Path) -> None:
    expectations = "      - {as: reader, action: s3:ListBucket, resource: bucket:ghost, expect: denied}"
    assert diagnostics(tmp_path, VALID, expectations) == [
        "35:55: 'bucket:ghost' names no bucket of this scenario (known: docs, other) (at states[0].expectations[0].resource)"]


def test_a_read_names_a_seeded_object(tmp_path: Path) -> None:
    expectations = "      - {as: reader, action: s3:HeadObject, resource: object:docs/absent.txt, expect: denied}"
    [problem] = diagnostics(tmp_path, VALID, expectations)
    assert problem.startswith("35:55: s3:HeadObject reads 'absent.txt', which bucket 'docs' does not seed (seeded: a.txt)")


def test_an_object_action_on_a_bucket_is_refused(tmp_path: Path) -> None:
    expectations = "      - {as: reader, action: s3:GetObject, resource: bucket:docs, expect: denied}"
    assert diagnostics(tmp_path, VALID, expectations) == [
        "35:54: s3:GetObject acts on a object, not a bucket (at states[0].expectations[0].resource)"]


def test_a_patch_is_checked_at_its_own_lines(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    path.write_text(path.read_text() + "  - name: t\n    patch:\n      buckets:\n        docs:\n          encryption: key:ghost\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics] == [
        "40:23: 'key:ghost' names no key of this scenario (known: data, signing) (at states[1].patch.buckets.docs.encryption)"]


def test_validate_exits_2_with_located_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "encryption: key:ghost\nbucket_key: maybe")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:21:17:" in err and "(at buckets.docs.bucket_key)" in err


def test_a_head_expectation_gives_no_error_code(tmp_path: Path) -> None:
    expectations = "      - {as: reader, action: s3:HeadObject, resource: object:docs/a.txt, expect: denied, error: AccessDenied}"
    [problem] = diagnostics(tmp_path, VALID, expectations)
    assert problem.startswith("35:") and "a HEAD answer has no body" in problem
    assert problem.endswith("(at states[0].expectations[0].error)")


# --- Block Public Access, Object Ownership and `as: anonymous` (issue 20, item 5) -------------
# S3 API Reference, "PublicAccessBlockConfiguration" (BlockPublicPolicy: PutBucketPolicy of a
# public policy is refused); S3 User Guide, "The meaning of 'public'"; IAM User Guide, "AWS JSON
# policy elements: Principal" (anonymous users: only S3 takes unsigned requests here).

PUBLIC = """\
public_access_block: {block_public_policy: true}
object_ownership: BucketOwnerEnforced
policy:
  Statement:
    - Sid: PublicRead
      Effect: Allow
      Principal: "*"
      Action: s3:GetObject
      Resource: "object:docs/*"
      CONDITION
objects:
  - {key: a.txt, body: alpha}
"""


def test_block_public_policy_with_a_public_policy_is_located(tmp_path: Path) -> None:
    [problem] = diagnostics(tmp_path, PUBLIC.replace("CONDITION", ""))
    assert problem.startswith("20:48: block_public_policy refuses this bucket's policy, which is public (statement"
                              " 'PublicRead' grants to \"*\"")
    assert problem.endswith("(at buckets.docs.public_access_block.block_public_policy)")


def test_block_public_policy_accepts_a_policy_bounded_by_a_fixed_vpc_endpoint(tmp_path: Path) -> None:
    bounded = PUBLIC.replace("CONDITION", "Condition: {StringEquals: {aws:SourceVpce: vpce-1a2b3c4d}}")
    loaded = load_scenario(write(tmp_path, bounded))
    bucket = loaded.desired[0].buckets["docs"]
    assert bucket.public_access_block is not None and bucket.public_access_block.block_public_policy
    assert bucket.object_ownership == "BucketOwnerEnforced"


def test_an_unknown_setting_and_ownership_are_refused(tmp_path: Path) -> None:
    problems = diagnostics(tmp_path, "public_access_block: {block_everything: true}\nobject_ownership: Nobody\n")
    assert any("block_everything" in p for p in problems)
    assert any("object_ownership" in p for p in problems)


def test_anonymous_is_for_s3_only(tmp_path: Path) -> None:
    expectations = "      - {as: anonymous, action: dynamodb:GetItem, resource: table:orders, key: {id: o-1}, expect: denied}"
    [problem] = diagnostics(tmp_path, VALID, expectations)
    assert "only S3 takes" in problem and problem.endswith("(at states[0].expectations[0].action)")


def test_anonymous_reads_load(tmp_path: Path) -> None:
    expectations = "      - {as: anonymous, action: s3:GetObject, resource: object:docs/a.txt, expect: denied}"
    load_scenario(write(tmp_path, VALID, expectations))


# --- The account-level Block Public Access (S3 Control PutPublicAccessBlock with AccountId) ------
# S3 User Guide, "Blocking public access to your Amazon S3 storage": S3 applies the most
# restrictive combination of the account-level and the bucket-level settings.

ACCOUNT_BLOCK = "account_public_access_block:\n  home: {block_public_policy: BLOCKS}\n"


def with_account_block(tmp_path: Path, blocks: str, bucket: str) -> Path:
    path = write(tmp_path, bucket)
    path.write_text(path.read_text().replace("states:\n", ACCOUNT_BLOCK.replace("BLOCKS", blocks) + "states:\n", 1))
    return path


def test_account_block_public_policy_with_a_public_bucket_policy_is_located(tmp_path: Path) -> None:
    public = PUBLIC.replace("CONDITION", "").replace("public_access_block: {block_public_policy: true}\n", "")
    path = with_account_block(tmp_path, "true", public)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics]
    assert problem.startswith("33:31: the account-level block_public_policy of 'home' refuses the policy of bucket"
                              " 'docs', which is public (statement 'PublicRead'")
    assert problem.endswith("(at account_public_access_block.home.block_public_policy)")


def test_a_state_turning_the_account_block_on_is_located_in_its_patch(tmp_path: Path) -> None:
    public = PUBLIC.replace("CONDITION", "").replace("public_access_block: {block_public_policy: true}\n", "")
    path = with_account_block(tmp_path, "false", public)
    path.write_text(path.read_text() + "  - name: t\n    patch:\n      account_public_access_block:\n"
                    "        home: {block_public_policy: true}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics]
    assert "account-level block_public_policy of 'home'" in problem
    assert problem.endswith("(at states[1].patch.account_public_access_block.home.block_public_policy)")


def test_an_account_block_of_an_unknown_account_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    path.write_text(path.read_text().replace("states:\n", "account_public_access_block:\n  partner: {}\nstates:\n", 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics]
    assert "'partner' names no account of this scenario (known: home)" in problem


def test_an_account_block_without_public_policies_loads(tmp_path: Path) -> None:
    bounded = PUBLIC.replace("CONDITION", "Condition: {StringEquals: {aws:SourceVpce: vpce-1a2b3c4d}}")
    loaded = load_scenario(with_account_block(tmp_path, "true", bounded))
    block = loaded.desired[0].account_public_access_block["home"]
    assert block.block_public_policy and not block.restrict_public_buckets
