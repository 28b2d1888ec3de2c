"""The AWS provider's documented arguments for the resource types `orchestrate export --format
terraform` writes (hashicorp/aws; each page is
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/NAME, NAME the type
without `aws_`, e.g. .../resources/kms_key). Nested blocks map to their own argument sets.
Checked against `terraform providers schema -json` of hashicorp/aws 5.100.0. `depends_on` and
the other meta-arguments are Terraform's own (Terraform language, "Meta-Arguments")."""

from __future__ import annotations

from typing import Any

META_ARGUMENTS = frozenset({"depends_on", "count", "for_each", "provider", "lifecycle"})
_TAGS = {"tags": None}

ARGUMENTS: dict[str, dict[str, Any]] = {
    "aws_kms_key": {"description": None, "key_usage": None, "customer_master_key_spec": None, "policy": None,
                    "bypass_policy_lockout_safety_check": None, "deletion_window_in_days": None, "is_enabled": None,
                    "enable_key_rotation": None, "rotation_period_in_days": None, "multi_region": None,
                    "custom_key_store_id": None, "xks_key_id": None, **_TAGS},
    "aws_kms_alias": {"name": None, "name_prefix": None, "target_key_id": None},
    "aws_kms_grant": {"name": None, "key_id": None, "grantee_principal": None, "operations": None,
                      "retiring_principal": None, "grant_creation_tokens": None, "retire_on_delete": None,
                      "constraints": {"encryption_context_equals": None, "encryption_context_subset": None}},
    "aws_dynamodb_table": {"name": None, "billing_mode": None, "hash_key": None, "range_key": None,
                           "read_capacity": None, "write_capacity": None, "attribute": {"name": None, "type": None},
                           "server_side_encryption": {"enabled": None, "kms_key_arn": None},
                           "deletion_protection_enabled": None, "table_class": None, **_TAGS},
    "aws_dynamodb_resource_policy": {"resource_arn": None, "policy": None, "confirm_remove_self_resource_access": None},
    "aws_dynamodb_table_item": {"table_name": None, "hash_key": None, "range_key": None, "item": None},
    "aws_iam_user": {"name": None, "path": None, "permissions_boundary": None, "force_destroy": None, **_TAGS},
    "aws_iam_user_policy": {"name": None, "name_prefix": None, "user": None, "policy": None},
    "aws_iam_user_policy_attachment": {"user": None, "policy_arn": None},
    "aws_iam_user_group_membership": {"user": None, "groups": None},
    "aws_iam_group": {"name": None, "path": None},
    "aws_iam_group_policy": {"name": None, "name_prefix": None, "group": None, "policy": None},
    "aws_iam_group_policy_attachment": {"group": None, "policy_arn": None},
    "aws_iam_policy": {"name": None, "name_prefix": None, "path": None, "description": None, "policy": None, **_TAGS},
    "aws_iam_role": {"name": None, "name_prefix": None, "path": None, "assume_role_policy": None, "description": None,
                     "max_session_duration": None, "permissions_boundary": None, "force_detach_policies": None, **_TAGS},
    "aws_iam_role_policy": {"name": None, "name_prefix": None, "role": None, "policy": None},
    "aws_iam_role_policy_attachment": {"role": None, "policy_arn": None},
    "aws_s3_bucket": {"bucket": None, "bucket_prefix": None, "force_destroy": None, "object_lock_enabled": None, **_TAGS},
    "aws_s3_bucket_server_side_encryption_configuration": {
        "bucket": None, "expected_bucket_owner": None,
        "rule": {"bucket_key_enabled": None,
                 "apply_server_side_encryption_by_default": {"sse_algorithm": None, "kms_master_key_id": None}}},
    "aws_s3_bucket_policy": {"bucket": None, "policy": None},
    "aws_s3_bucket_public_access_block": {"bucket": None, "block_public_acls": None, "block_public_policy": None,
                                          "ignore_public_acls": None, "restrict_public_buckets": None},
    "aws_s3_bucket_ownership_controls": {"bucket": None, "rule": {"object_ownership": None}},
    "aws_s3_account_public_access_block": {"account_id": None, "block_public_acls": None, "block_public_policy": None,
                                           "ignore_public_acls": None, "restrict_public_buckets": None},
    "aws_s3_object": {"bucket": None, "key": None, "content": None, "content_base64": None, "source": None,
                      "content_type": None, "metadata": None, "kms_key_id": None, "server_side_encryption": None,
                      "bucket_key_enabled": None, **_TAGS},
    "aws_organizations_policy": {"name": None, "content": None, "description": None, "type": None, "skip_destroy": None,
                                 **_TAGS},
    "aws_organizations_policy_attachment": {"policy_id": None, "target_id": None, "skip_destroy": None},
    "aws_organizations_organizational_unit": {"name": None, "parent_id": None, **_TAGS},
    "aws_vpc_endpoint": {"vpc_id": None, "service_name": None, "vpc_endpoint_type": None, "policy": None,
                         "route_table_ids": None, "subnet_ids": None, "security_group_ids": None,
                         "private_dns_enabled": None, "auto_accept": None, "ip_address_type": None, **_TAGS},
}
#: Arguments the provider requires (the docs' "Required" marks).
REQUIRED: dict[str, frozenset[str]] = {
    "aws_kms_alias": frozenset({"target_key_id"}),
    "aws_kms_grant": frozenset({"key_id", "grantee_principal", "operations"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "attribute"}),
    "aws_dynamodb_resource_policy": frozenset({"resource_arn", "policy"}),
    "aws_dynamodb_table_item": frozenset({"table_name", "hash_key", "item"}),
    "aws_iam_user": frozenset({"name"}),
    "aws_iam_user_policy": frozenset({"user", "policy"}),
    "aws_iam_user_policy_attachment": frozenset({"user", "policy_arn"}),
    "aws_iam_user_group_membership": frozenset({"user", "groups"}),
    "aws_iam_group": frozenset({"name"}),
    "aws_iam_group_policy": frozenset({"group", "policy"}),
    "aws_iam_group_policy_attachment": frozenset({"group", "policy_arn"}),
    "aws_iam_policy": frozenset({"policy"}),
    "aws_iam_role": frozenset({"assume_role_policy"}),
    "aws_iam_role_policy": frozenset({"role", "policy"}),
    "aws_iam_role_policy_attachment": frozenset({"role", "policy_arn"}),
    "aws_s3_bucket_server_side_encryption_configuration": frozenset({"bucket", "rule"}),
    "aws_s3_bucket_policy": frozenset({"bucket", "policy"}),
    "aws_s3_bucket_public_access_block": frozenset({"bucket"}),
    "aws_s3_bucket_ownership_controls": frozenset({"bucket", "rule"}),
    "aws_s3_account_public_access_block": frozenset(),
    "aws_s3_object": frozenset({"bucket", "key"}),
    "aws_organizations_policy": frozenset({"name", "content"}),
    "aws_organizations_policy_attachment": frozenset({"policy_id", "target_id"}),
    "aws_organizations_organizational_unit": frozenset({"name", "parent_id"}),
    "aws_vpc_endpoint": frozenset({"vpc_id", "service_name"}),
}
