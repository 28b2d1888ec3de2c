"""moto 5.2's CloudFormation, as the round-trip test meets it.

Supported types (moto/*/models.py `cloudformation_type`): AWS::KMS::Key, AWS::KMS::Alias,
AWS::DynamoDB::Table, AWS::IAM::User, AWS::IAM::Role, AWS::IAM::Policy,
AWS::IAM::ManagedPolicy, AWS::S3::Bucket. Not supported (moto warns and skips the resource):
AWS::IAM::Group, AWS::S3::BucketPolicy. `GAPS` are the properties moto's
`create_from_cloudformation_json` ignores: their drift after a round trip is moto's, not the
template's (real CloudFormation applies them; cfn-lint checks them).

Two shims bridge where moto reads another shape than CloudFormation documents: AWS::KMS::Key
Tags are read as the API's TagKey/TagValue (CloudFormation's are Key/Value), and
AWS::DynamoDB::Table SSESpecification as the API's `Enabled` (CloudFormation's `SSEEnabled`);
and moto stores the resolved KeyPolicy object where KMS stores the policy text, so the keys'
policies are serialised after the stack is created.
"""

from __future__ import annotations

import json
from typing import Any

#: (drift address kind, property path prefix; "" = the whole resource) -> why it is moto's.
GAPS: dict[tuple[str, str], str] = {
    ("iam_user", "tags"): "AWS::IAM::User reads UserName and Path only",
    ("iam_user_access", "managed_policies"): "AWS::IAM::User ignores ManagedPolicyArns",
    ("iam_user_access", "groups"): "AWS::IAM::User ignores Groups",
    ("iam_user_access", "permissions_boundary"): "AWS::IAM::User ignores PermissionsBoundary",
    ("iam_role_access", "managed_policies"): "AWS::IAM::Role ignores ManagedPolicyArns",
    ("iam_group", ""): "AWS::IAM::Group is not supported",
    ("iam_group_access", ""): "AWS::IAM::Group is not supported",
    ("dynamodb_table", "policy"): "AWS::DynamoDB::Table ignores ResourcePolicy",
    ("kms_key", "enabled"): "AWS::KMS::Key sets Enabled on the model but not its KeyState",
    ("kms_key", "spec"): "AWS::KMS::Key always creates SYMMETRIC_DEFAULT",
    ("kms_key", "usage"): "AWS::KMS::Key always creates ENCRYPT_DECRYPT",
    ("s3_bucket", "bucket_key"): "AWS::S3::Bucket ignores BucketKeyEnabled",
    ("s3_bucket", "policy"): "AWS::S3::BucketPolicy is not supported",
}


def moto_gap(address: str, path: str) -> str | None:
    kind = address.partition(".")[0]
    for (gap_kind, prefix), why in GAPS.items():
        if kind == gap_kind and (not prefix or path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))):
            return why
    return None


def for_moto(template: dict[str, Any]) -> dict[str, Any]:
    """The template in the shapes moto reads (see the module docstring)."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::KMS::Key":
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
        if resource["Type"] == "AWS::DynamoDB::Table" and "SSESpecification" in properties:
            properties["SSESpecification"]["Enabled"] = properties["SSESpecification"].pop("SSEEnabled")
    return template


def serialise_key_policies(account: str, region: str) -> None:
    from moto.kms.models import kms_backends

    for key in kms_backends[account][region].keys.values():
        if isinstance(key.policy, dict):
            key.policy = json.dumps(key.policy)
