"""The desired state as an AWS CloudFormation template (YAML, long-form intrinsics).

Output shape (kept conventional so that other tools, orchestrate's importer too, can read it):

- a comment block first: what the template leaves out (`notes.py`), then the state's
  expectations (they are not infrastructure);
- `AWSTemplateFormatVersion`, `Description`, `Metadata.Orchestrate` (`Scenario`, `State`),
  `Parameters.KeyManagerArn` when a key keeps orchestrate's lockout guard, and `Resources`;
- one resource per entity, logical id = kind prefix + CamelCase name (`UserTester`,
  `KeyData`, `TableOrders`, `BucketReports`, `RoleReader`, `GroupAuditors`, `PolicyReadOrders`):
  `AWS::IAM::User` (UserName, Tags, ManagedPolicyArns, Groups, PermissionsBoundary),
  `AWS::IAM::Group` (GroupName, Path, ManagedPolicyArns), `AWS::IAM::ManagedPolicy`
  (ManagedPolicyName, Path, Description, PolicyDocument), `AWS::IAM::Role` (RoleName, Path,
  AssumeRolePolicyDocument, MaxSessionDuration, Description, ManagedPolicyArns,
  PermissionsBoundary, Tags), `AWS::KMS::Key` (Description, KeySpec, KeyUsage, Enabled,
  EnableKeyRotation, PendingWindowInDays, KeyPolicy, Tags, BypassPolicyLockoutSafetyCheck),
  `AWS::KMS::Alias` (`<Key>Alias<Name>`: AliasName, TargetKeyId), `AWS::DynamoDB::Table`
  (TableName, KeySchema, AttributeDefinitions, BillingMode, ProvisionedThroughput,
  SSESpecification, ResourcePolicy, Tags), `AWS::S3::Bucket` (BucketName, BucketEncryption, PublicAccessBlockConfiguration, OwnershipControls,
  Tags), `AWS::S3::BucketPolicy` (`<Bucket>Policy`), and each inline policy as its own
  `AWS::IAM::Policy` (`<Owner>Policy<Name>`: PolicyName, PolicyDocument, Users/Groups/Roles)
  so that key policies naming a user and the user's policy naming the key make no cycle;
- scenario references as `Fn::GetAtt [Logical, Arn]` (users, roles, groups, keys, tables,
  buckets), `Ref` (managed policies), `Fn::Sub` (objects, the account root, AWS managed
  policies, a table's own ARN in its ResourcePolicy).

The organization's SCPs, RCPs and units and the VPC endpoints are cloudformation_org.py's
(`AWS::Organizations::Policy`, `AWS::Organizations::OrganizationalUnit`, `AWS::EC2::VPCEndpoint`).

CloudFormation User Guide, "Template reference" (resource and property types) and "Intrinsic
function reference". CloudFormation has no resource for DynamoDB items, KMS grants or S3 objects:
they are left out and named in the notes.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from orchestrator import arns
from orchestrator.export import cloudformation_org, organization
from orchestrator.export.notes import Note, render_comment
from orchestrator.model.policy import ORCHESTRATE
from orchestrator.resources.lockout import KEY_MANAGER_PARAMETER
from orchestrator.export.references import (account_level, camel, logical_id, mentions_orchestrate,
                                            managed_policy_name, map_policy)
from orchestrator.export.render import (MANAGER_HELP, MANAGER_PATTERN, Export, Source, common_notes,
                                        expectation_lines, guarantee_lines, guard_statement)

MANAGER = KEY_MANAGER_PARAMETER


class _Dumper(yaml.SafeDumper):
    """No YAML aliases: CloudFormation refuses them (cfn-lint W1101)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


#: CloudFormation's pseudo parameters, put into ARNs that Fn::Sub completes.
PARTITION, ACCOUNT_ID, REGION = "${AWS::Partition}", "${AWS::AccountId}", "${AWS::Region}"
ROOT = {"Fn::Sub": arns.root_arn(ACCOUNT_ID, PARTITION)}


def template(src: Source) -> Export:
    notes = common_notes(src) + _notes(src) + organization.notes(src, "cloudformation")
    resources: dict[str, Any] = {}
    for build in (_policies, _groups, _users, _roles, _keys, _tables, _buckets):
        resources.update(build(src))
    resources.update(cloudformation_org.resources(src, lambda document: _policy(src, document),
                                                  lambda name, tags: _tags(src, name, tags)))
    metadata: dict[str, Any] = {"Scenario": src.scenario, "State": src.state}
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"orchestrate scenario {src.scenario}, state {src.state}",
        "Metadata": {"Orchestrate": metadata},
    }
    parameters: dict[str, Any] = {}
    if any(src.guarded(k) for k in src.names("keys")) or mentions_orchestrate(src.desired):
        parameters[MANAGER] = {"Type": "String", "AllowedPattern": MANAGER_PATTERN, "Description": MANAGER_HELP}
    more, meaning = cloudformation_org.parameters(src, json.dumps(resources))
    parameters.update(more)
    if meaning:
        metadata["Parameters"] = meaning
    metadata.update(cloudformation_org.metadata(src))
    if parameters:
        document["Parameters"] = parameters
    document["Resources"] = resources or {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return Export(render_comment(notes, expectation_lines(src), guarantees=guarantee_lines(src)) + body, notes)


def _notes(src: Source) -> list[Note]:
    """What CloudFormation has no resource for (CloudFormation User Guide, "Template reference")."""
    notes = []
    for name in src.names("tables"):
        if src.desired.tables[name].items:
            notes.append(Note(f"dynamodb_table.{name}", "items", "CloudFormation has no resource for DynamoDB items;"
                              " seed them after deploying (orchestrate apply does)"))
    for name in src.names("keys"):
        if src.desired.keys[name].grants:
            notes.append(Note(f"kms_grant.{name}", "", "CloudFormation has no resource for KMS grants (CreateGrant)"))
    for name in src.names("buckets"):
        if src.desired.buckets[name].objects:
            notes.append(Note(f"s3_objects.{name}", "", "CloudFormation has no resource for S3 objects"))
    if "home" in src.desired.account_public_access_block:
        notes.append(Note("s3_account_public_access_block.home", "", (
            "CloudFormation has no resource for the account-level S3 Block Public Access (S3 Control"
            " PutPublicAccessBlock with AccountId); set it with that API (orchestrate apply does) or Terraform's"
            " aws_s3_account_public_access_block")))
    return notes


def _tags(src: Source, name: str, tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(src.ownership_tags(name, tags).items())]


def _resolver(src: Source, own_table: str | None = None) -> Any:
    def resolve(reference: str) -> Any:
        if reference == ORCHESTRATE:  # whoever deploys the template: its key manager
            return {"Ref": MANAGER}
        shared = account_level(src.desired, src.region, reference, ROOT)
        if shared is not None:
            return shared
        kind, _, name = reference.partition(":")
        if kind == "object":
            bucket, _, key = name.partition("/")
            return {"Fn::Sub": f"${{{logical_id('buckets', bucket)}.Arn}}/{key.replace('${', '${!')}"}
        if kind == "policy":
            return {"Ref": logical_id("policies", name)}
        if kind == "session":  # a role session's ARN: the role's name, then the session's
            role, _, session = name.partition("/")
            return {"Fn::Sub": arns.assumed_role_arn(ACCOUNT_ID, "${" + logical_id("roles", role) + "}", session, PARTITION)}
        if kind == "table" and name == own_table:  # a table's policy cannot Fn::GetAtt the table itself
            return {"Fn::Sub": arns.table_arn(REGION, ACCOUNT_ID, name, PARTITION)}
        section = {"user": "users", "group": "groups", "role": "roles", "key": "keys", "table": "tables",
                   "bucket": "buckets"}[kind]
        return {"Fn::GetAtt": [logical_id(section, name), "Arn"]}
    return resolve


def _policy(src: Source, document: Any, own_table: str | None = None) -> dict[str, Any]:
    mapped = map_policy(document.model_dump(mode="json", by_alias=True, exclude_none=True), _resolver(src, own_table))
    return cloudformation_org.map_document(src, mapped)


def _managed_arn(name: str) -> Any:
    kind, value = managed_policy_name(name)
    if kind == "scenario":
        return {"Ref": logical_id("policies", value)}
    return value if kind == "arn" else {"Fn::Sub": arns.aws_managed_policy_arn(value, PARTITION)}


def _inline(src: Source, section: str, name: str, policies: dict[str, Any]) -> dict[str, Any]:
    """Each inline policy as an AWS::IAM::Policy naming its user, group or role."""
    owner = logical_id(section, name)
    field = {"users": "Users", "groups": "Groups", "roles": "Roles"}[section]
    return {f"{owner}Policy{camel(p)}": {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyName": p, "PolicyDocument": _policy(src, doc), field: [{"Ref": owner}]}}
        for p, doc in sorted(policies.items())}


def _policies(src: Source) -> dict[str, Any]:
    out = {}
    for name in src.names("policies"):
        policy = src.desired.policies[name]
        properties = {"ManagedPolicyName": name, "Path": src.iam_path(), "PolicyDocument": _policy(src, policy.document)}
        if policy.description:
            properties["Description"] = policy.description
        out[logical_id("policies", name)] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}
    return out


def _groups(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("groups"):
        group = src.desired.groups[name]
        properties: dict[str, Any] = {"GroupName": name, "Path": src.iam_path()}
        if group.managed_policies:
            properties["ManagedPolicyArns"] = [_managed_arn(p) for p in sorted(group.managed_policies)]
        out[logical_id("groups", name)] = {"Type": "AWS::IAM::Group", "Properties": properties}
        out.update(_inline(src, "groups", name, group.inline_policies))
    return out


def _users(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("users"):
        user = src.desired.users[name]
        properties: dict[str, Any] = {"UserName": name, "Tags": _tags(src, name, user.tags)}
        if user.managed_policies:
            properties["ManagedPolicyArns"] = [_managed_arn(p) for p in sorted(user.managed_policies)]
        if user.groups:
            properties["Groups"] = [{"Ref": logical_id("groups", g)} for g in sorted(user.groups)]
        if user.permissions_boundary:
            properties["PermissionsBoundary"] = _managed_arn(user.permissions_boundary)
        out[logical_id("users", name)] = {"Type": "AWS::IAM::User", "Properties": properties}
        out.update(_inline(src, "users", name, user.inline_policies))
    return out


def _roles(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("roles"):
        role = src.desired.roles[name]
        properties: dict[str, Any] = {"RoleName": name, "Path": role.path,
                                      "AssumeRolePolicyDocument": _policy(src, role.trust_policy),
                                      "MaxSessionDuration": role.max_session_seconds}
        if role.description:
            properties["Description"] = role.description
        if role.managed_policies:
            properties["ManagedPolicyArns"] = [_managed_arn(p) for p in sorted(role.managed_policies)]
        if role.permissions_boundary:
            properties["PermissionsBoundary"] = _managed_arn(role.permissions_boundary)
        properties["Tags"] = _tags(src, name, role.tags)
        out[logical_id("roles", name)] = {"Type": "AWS::IAM::Role", "Properties": properties}
        out.update(_inline(src, "roles", name, role.inline_policies))
    return out


def _keys(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("keys"):
        key = src.desired.keys[name]
        policy = _policy(src, key.policy)
        if key.lockout == "guard":
            policy["Statement"] = list(policy.get("Statement", [])) + [guard_statement({"Ref": MANAGER})]
        properties: dict[str, Any] = {
            "Description": key.description, "KeySpec": key.spec, "KeyUsage": key.usage, "Enabled": key.usable,
            "EnableKeyRotation": key.rotation, "PendingWindowInDays": key.deletion_window_days,
            "KeyPolicy": policy, "Tags": _tags(src, name, key.tags)}
        if key.lockout == "allow":
            properties["BypassPolicyLockoutSafetyCheck"] = True
        out[logical_id("keys", name)] = {"Type": "AWS::KMS::Key", "Properties": properties}
        for alias in sorted(key.aliases):
            out[f"{logical_id('keys', name)}Alias{camel(alias.removeprefix('alias/'))}"] = {
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": alias, "TargetKeyId": {"Ref": logical_id("keys", name)}}}
    return out


def _table_encryption(encryption: str) -> dict[str, Any] | None:
    """DynamoDB SSESpecification: absent for an AWS owned key, KMS for aws/dynamodb or a key."""
    if encryption == "aws-owned":
        return None
    sse: dict[str, Any] = {"SSEEnabled": True, "SSEType": "KMS"}
    if encryption.startswith("key:"):
        sse["KMSMasterKeyId"] = {"Fn::GetAtt": [logical_id("keys", encryption.removeprefix("key:")), "Arn"]}
    return sse


def _tables(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("tables"):
        table = src.desired.tables[name]
        attributes = table.key_attributes()
        properties: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": a.name, "KeyType": t} for a, t in zip(attributes, ("HASH", "RANGE"))],
            "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in attributes],
            "BillingMode": table.billing_mode}
        if table.billing_mode == "PROVISIONED":
            properties["ProvisionedThroughput"] = {"ReadCapacityUnits": table.read_capacity,
                                                   "WriteCapacityUnits": table.write_capacity}
        sse = _table_encryption(table.encryption)
        if sse:
            properties["SSESpecification"] = sse
        if table.policy is not None:
            properties["ResourcePolicy"] = {"PolicyDocument": _policy(src, table.policy, own_table=name)}
        properties["Tags"] = _tags(src, name, table.tags)
        out[logical_id("tables", name)] = {"Type": "AWS::DynamoDB::Table", "Properties": properties}
    return out


def _bucket_encryption(encryption: str, bucket_key: bool) -> dict[str, Any] | None:
    """S3 BucketEncryption: AES256 (SSE-S3), aws:kms with aws/s3, or aws:kms with the key."""
    if encryption == "aws-owned" and not bucket_key:
        return None
    default: dict[str, Any] = {"SSEAlgorithm": "AES256" if encryption == "aws-owned" else "aws:kms"}
    if encryption.startswith("key:"):
        default["KMSMasterKeyID"] = {"Fn::GetAtt": [logical_id("keys", encryption.removeprefix("key:")), "Arn"]}
    return {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default,
                                                   "BucketKeyEnabled": bucket_key}]}


def _public_settings(bucket: Any) -> dict[str, Any]:
    """AWS::S3::Bucket PublicAccessBlockConfiguration and OwnershipControls (CloudFormation User
    Guide, "AWS::S3::Bucket"), when the scenario declares them."""
    found: dict[str, Any] = {}
    block = bucket.public_access_block
    if block is not None:
        found["PublicAccessBlockConfiguration"] = {
            "BlockPublicAcls": block.block_public_acls, "IgnorePublicAcls": block.ignore_public_acls,
            "BlockPublicPolicy": block.block_public_policy, "RestrictPublicBuckets": block.restrict_public_buckets}
    if bucket.object_ownership is not None:
        found["OwnershipControls"] = {"Rules": [{"ObjectOwnership": bucket.object_ownership}]}
    return found


def _buckets(src: Source) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in src.names("buckets"):
        bucket = src.desired.buckets[name]
        properties: dict[str, Any] = {"BucketName": name}
        encryption = _bucket_encryption(bucket.encryption, bucket.bucket_key)
        if encryption:
            properties["BucketEncryption"] = encryption
        properties.update(_public_settings(bucket))
        properties["Tags"] = _tags(src, name, bucket.tags)
        out[logical_id("buckets", name)] = {"Type": "AWS::S3::Bucket", "Properties": properties}
        if bucket.policy is not None:
            out[f"{logical_id('buckets', name)}Policy"] = {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": logical_id("buckets", name)}, "PolicyDocument": _policy(src, bucket.policy)}}
    return out
