"""What the embedded backend and `orchestrate serve` add to moto 5.2's CloudFormation, so that a
stack deployed there holds what the template says (the export round trip, `create_stack`).

moto's `create_from_cloudformation_json` drops documented properties and reads others in the API's
shape rather than CloudFormation's. Each fix follows the property's page in the CloudFormation
User Guide ("AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::IAM::User", "AWS::IAM::Role",
"AWS::IAM::Group", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"):

- AWS::KMS::Key: KeySpec and KeyUsage (moto always made SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT),
  Tags as Key/Value (moto read TagKey/TagValue), Enabled: false as the key state Disabled, and
  KeyPolicy kept as the policy text KMS returns (moto kept the parsed object).
- AWS::DynamoDB::Table: SSESpecification.SSEEnabled (moto read the API's `Enabled`) and
  ResourcePolicy.PolicyDocument.
- AWS::IAM::User: Tags, Groups, ManagedPolicyArns, PermissionsBoundary and Policies.
- AWS::IAM::Role: ManagedPolicyArns.
- AWS::S3::Bucket: ServerSideEncryptionConfiguration[].BucketKeyEnabled.
- AWS::IAM::Group and AWS::S3::BucketPolicy, which moto skips with a warning: created.

Installed once per process (`install`), the first time a CloudFormation client is made.
"""

from __future__ import annotations

import json
import threading
from typing import Any

_installed = threading.Lock()
#: The mark left on moto's CloudFormation parser once it is extended: the state of the patch lives
#: on what was patched (one per process), not in a module of ours.
_MARK = "_orchestrate_extended"


def install() -> None:
    from moto.cloudformation import parsing

    with _installed:
        if getattr(parsing, _MARK, False):
            return
        _patch_kms_key()
        _patch_dynamodb_table()
        _patch_iam_user()
        _patch_iam_role()
        _patch_s3_bucket()
        _add_group_and_bucket_policy()
        setattr(parsing, _MARK, True)


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _iam(account: str, region: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account][get_partition(region)]


def _attach_all(account: str, arns: list[str], attach: Any) -> None:
    from orchestrator.backends.moto_extensions import ensure_managed_policy

    for arn in arns:
        ensure_managed_policy(account, arn)
        attach(arn)


def _patch_kms_key() -> None:
    from moto.kms.models import Key, kms_backends

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **_: Any) -> Any:
        backend = kms_backends[account_id][region_name]
        properties = cloudformation_json["Properties"]
        tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
        key = backend.create_key(policy=_text(properties["KeyPolicy"]),
                                 key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
                                 key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
                                 description=properties.get("Description"), tags=tags)
        key.key_rotation_status = properties.get("EnableKeyRotation", False)
        if properties.get("Enabled", True) in (False, "false"):
            backend.disable_key(key.id)
        return key

    Key.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def _patch_dynamodb_table() -> None:
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    original = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        properties = dict(cloudformation_json["Properties"])
        sse = properties.get("SSESpecification")
        if isinstance(sse, dict) and "SSEEnabled" in sse:
            sse = {("Enabled" if k == "SSEEnabled" else k): v for k, v in sse.items()}
            properties["SSESpecification"] = sse
        table = original(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id,
                         region_name, **kwargs)
        policy = (properties.get("ResourcePolicy") or {}).get("PolicyDocument")
        if policy is not None:
            dynamodb_backends[account_id][region_name].put_resource_policy(table.table_arn, _text(policy), None)
        return table

    Table.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def _patch_iam_user() -> None:
    from moto.iam.models import User

    from orchestrator.backends.moto_extensions import BOUNDARY_ATTRIBUTE

    original = User.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        user = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties", {})
        backend = _iam(account_id, region_name)
        if properties.get("Tags"):
            backend.tag_user(user.name, properties["Tags"])
        for group in properties.get("Groups", []):
            backend.add_user_to_group(group, user.name)
        _attach_all(account_id, properties.get("ManagedPolicyArns", []),
                    lambda arn: backend.attach_user_policy(arn, user.name))
        if properties.get("PermissionsBoundary"):
            setattr(user, BOUNDARY_ATTRIBUTE, properties["PermissionsBoundary"])
        for policy in properties.get("Policies", []):
            backend.put_user_policy(user.name, policy["PolicyName"], _text(policy["PolicyDocument"]))
        return user

    def delete(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
        """What the stack gave the user goes with it (moto refused: DeleteConflict)."""
        backend = _iam(account_id, region_name)
        user = backend.get_user(resource_name)
        for arn in list(user.managed_policies):
            backend.detach_user_policy(arn, resource_name)
        for name in list(user.policies):
            backend.delete_user_policy(resource_name, name)
        for group in [g for g in backend.groups.values() if user in g.users]:
            backend.remove_user_from_group(group.name, resource_name)
        backend.delete_user(resource_name)

    User.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    User.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[method-assign,assignment]


def _patch_iam_role() -> None:
    from moto.iam.models import Role

    original = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        role = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = _iam(account_id, region_name)
        _attach_all(account_id, cloudformation_json["Properties"].get("ManagedPolicyArns", []),
                    lambda arn: backend.attach_role_policy(arn, role.name))
        return role

    original_delete = Role.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def delete(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
        backend = _iam(account_id, region_name)
        for arn in list(backend.get_role(resource_name).managed_policies):
            backend.detach_role_policy(arn, resource_name)
        original_delete(cls, resource_name, cloudformation_json, account_id, region_name)

    Role.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    Role.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[method-assign,assignment]


def _patch_s3_bucket() -> None:
    from moto.s3.models import FakeBucket

    original = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        bucket = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        rules = cloudformation_json.get("Properties", {}).get("BucketEncryption", {}).get(
            "ServerSideEncryptionConfiguration", [])
        if rules and "BucketKeyEnabled" in rules[0] and isinstance(bucket.encryption, dict):
            bucket.encryption["Rule"]["BucketKeyEnabled"] = str(rules[0]["BucketKeyEnabled"]).lower()
        _public_settings(bucket, cloudformation_json.get("Properties", {}))
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def _public_settings(bucket: Any, properties: dict[str, Any]) -> None:
    """PublicAccessBlockConfiguration and OwnershipControls, which moto 5.2's AWS::S3::Bucket ignores."""
    from moto.s3.models import PublicAccessBlock

    block = properties.get("PublicAccessBlockConfiguration")
    if isinstance(block, dict):
        bucket.public_access_block = PublicAccessBlock(
            block.get("BlockPublicAcls"), block.get("IgnorePublicAcls"),
            block.get("BlockPublicPolicy"), block.get("RestrictPublicBuckets"))
    rules = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if rules and isinstance(rules[0], dict) and rules[0].get("ObjectOwnership"):
        bucket.ownership_rule = str(rules[0]["ObjectOwnership"])


def _add_group_and_bucket_policy() -> None:
    from moto.cloudformation import parsing

    from orchestrator.backends import moto_cfn_types

    moto_cfn_types.define()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
