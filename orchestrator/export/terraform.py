"""The desired state as Terraform configuration (HCL) for the AWS provider.

Resource types and arguments follow the AWS provider's documentation
(registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/TYPE; the table the tests
check against is tests/export/export_provider_arguments.py): aws_iam_user, aws_iam_user_policy,
aws_iam_user_policy_attachment, aws_iam_user_group_membership, aws_iam_group,
aws_iam_group_policy, aws_iam_group_policy_attachment, aws_iam_policy, aws_iam_role,
aws_iam_role_policy, aws_iam_role_policy_attachment, aws_kms_key, aws_kms_alias, aws_kms_grant,
aws_dynamodb_table, aws_dynamodb_resource_policy, aws_dynamodb_table_item, aws_s3_bucket,
aws_s3_bucket_server_side_encryption_configuration, aws_s3_bucket_ownership_controls,
aws_s3_bucket_public_access_block, aws_s3_bucket_policy, aws_s3_object, and the account's
aws_s3_account_public_access_block; the organization's and the endpoints' (aws_organizations_policy,
aws_organizations_policy_attachment, aws_organizations_organizational_unit, aws_vpc_endpoint) are
terraform_org.py's.
Resource names are the scenario names (`aws_iam_user.tester`); scenario references become
resource attributes (`aws_iam_user.tester.arn`, `aws_kms_key.data.arn`), the account root and AWS
managed policies come from the `aws_caller_identity` and `aws_partition` data sources. Seed
objects carry orchestrate's `orchestrate-sha256` metadata, so orchestrate knows them as seeded.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

from orchestrator import arns
from orchestrator.export import organization, terraform_org
from orchestrator.export.hcl import Block, Expr, escape, jsonencode, string
from orchestrator.export.notes import render_comment
from orchestrator.model.policy import ORCHESTRATE
from orchestrator.export.references import (account_level, foreign_account, managed_policy_name, map_policy,
                                            mentions_orchestrate, snake)
from orchestrator.export.render import (MANAGER_HELP, MANAGER_PATTERN, Export, Source, common_notes, expectation_lines,
                                        guarantee_lines, guard_statement)
from orchestrator.resources.items import to_attribute_values
from orchestrator.resources.kms_grant import NAME_PREFIX
from orchestrator.resources.s3_objects import HASH_METADATA, body_hash

PARTITION = "${data.aws_partition.current.partition}"
ACCOUNT_ID = "${data.aws_caller_identity.current.account_id}"
#: The deploying region (hashicorp/aws, data source aws_region: `name`), for the scenario's.
REGION = "${data.aws_region.current.name}"
ROOT = Expr(f'"{arns.root_arn(ACCOUNT_ID, PARTITION)}"')
BUCKET_PREFIX = "${var.bucket_prefix}"
TYPES = {"user": "aws_iam_user", "group": "aws_iam_group", "role": "aws_iam_role", "key": "aws_kms_key",
         "table": "aws_dynamodb_table", "bucket": "aws_s3_bucket", "policy": "aws_iam_policy"}
#: The oldest hashicorp/aws release the configuration may ask for: the argument table the tests
#: check against (tests/export/export_provider_arguments.py) is 5.x's.
PROVIDER_FLOOR = (5, 0, 0)
#: Resource types newer than PROVIDER_FLOOR -> the release that added them (the provider's
#: CHANGELOG.md, "FEATURES: New Resource"): aws_dynamodb_resource_policy came in 5.43.0 (with
#: DynamoDB's resource-based policies, hashicorp/terraform-provider-aws#36502).
#: An aws_organizations_policy of type RESOURCE_CONTROL_POLICY needs the provider's SDK enums of
#: November 2024 (hashicorp/terraform-provider-aws#40125, documented in #40145): 5.77.0, the first
#: release after both were merged, is asked for (a conservative bound).
PROVIDER_MINIMUM = {"aws_dynamodb_resource_policy": (5, 43, 0), "RESOURCE_CONTROL_POLICY": (5, 77, 0)}
#: S3 bucket names: 3 to 63 of lowercase letters, digits, dots and hyphens (S3 User Guide, "General
#: purpose bucket naming rules"); a prefix starts as a name does.
BUCKET_PREFIX_PATTERN = r"^([a-z0-9][a-z0-9.-]*)?$"
BUCKET_PREFIX_HELP = ("prepended to every S3 bucket name: bucket names are global across AWS accounts, so the"
                      " scenario's own names (\"reports\") are likely taken; \"\" keeps them, as orchestrate's"
                      " default run names its buckets")


def template(src: Source) -> Export:
    notes = common_notes(src) + organization.notes(src, "terraform")
    resources: list[Block] = []
    for build in (_policies, _groups, _users, _roles, _keys, _tables, _account_block, _buckets):
        resources += build(src)
    resources += terraform_org.blocks(src, lambda document: _document(src, document), lambda name, tags: _tags(src, name, tags))
    body = "\n\n".join(b.render() for b in resources)
    types = [b.labels[0] for b in resources] + [b.attributes["type"] for b in resources
                                                 if b.labels[0] == "aws_organizations_policy"]
    blocks = [_terraform_block(types), Block("data", ["aws_caller_identity", "current"]),
              Block("data", ["aws_partition", "current"])]
    if "data.aws_region.current" in body:
        blocks.append(Block("data", ["aws_region", "current"]))
    if terraform_org.ORGANIZATION in body:
        blocks.append(Block("data", ["aws_organizations_organization", "current"]))
    blocks += terraform_org.variables(src, body)
    if any(src.guarded(k) for k in src.names("keys")) or mentions_orchestrate(src.desired):
        blocks.append(Block("variable", ["key_manager_arn"], {
            "type": Expr("string"), "description": MANAGER_HELP,
            "validation": Block("validation", [], {
                "condition": Expr(f"can(regex({string(MANAGER_PATTERN)}, var.key_manager_arn))"),
                "error_message": "key_manager_arn must be an IAM user or role ARN (an account root would delegate to the account)."})}))
    if "var.bucket_prefix" in body:
        blocks.append(_bucket_prefix_variable(src))
    header = render_comment(notes, expectation_lines(src), guarantees=guarantee_lines(src))
    header = f"# orchestrate scenario {src.scenario}, state {src.state}\n#\n{header}"
    text = "\n\n".join([*(b.render() for b in blocks), *([body] if body else [])])
    return Export(header + "\n" + text + "\n", notes)


def provider_constraint(types: Iterable[str]) -> str:
    """`>= X.Y.Z`: the newest of the releases that added the resource types written."""
    version = max([PROVIDER_FLOOR, *(PROVIDER_MINIMUM.get(kind, PROVIDER_FLOOR) for kind in types)])
    return ">= " + ".".join(str(part) for part in version)


def _terraform_block(types: Iterable[str]) -> Block:
    return Block("terraform", [], {"required_providers": Block("required_providers", [], {
        "aws": {"source": "hashicorp/aws", "version": provider_constraint(types)}})})


def _bucket_prefix_variable(src: Source) -> Block:
    """`bucket_prefix`, no default: whoever deploys chooses it (S3 bucket names are global), and
    the longest bucket name with it stays within S3's 63 characters."""
    room = 63 - max((len(name) for name in src.desired.buckets), default=0)
    return Block("variable", ["bucket_prefix"], {
        "type": Expr("string"), "description": BUCKET_PREFIX_HELP,
        "validation": Block("validation", [], {
            "condition": Expr(f"can(regex({string(BUCKET_PREFIX_PATTERN)}, var.bucket_prefix))"
                              f" && length(var.bucket_prefix) <= {room}"),
            "error_message": f"bucket_prefix must be lowercase letters, digits, dots and hyphens, starting with a letter"
                             f" or digit, at most {room} characters (S3 bucket naming rules)."})})


def _localise(src: Source, value: Any) -> Any:
    """`value` with the scenario's region and home account id, where an ARN or a service endpoint
    (`kms:ViaService`: `SERVICE.REGION.amazonaws.com`, KMS Developer Guide) names them, replaced by
    the deploying region and account (data sources aws_region, aws_caller_identity)."""
    if isinstance(value, dict):
        return {k: _localise(src, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_localise(src, v) for v in value]
    if not isinstance(value, str) or isinstance(value, Expr):
        return value
    pieces = _pieces(src, value)
    if all(not isinstance(piece, Expr) for piece in pieces):
        return value
    return Expr('"' + "".join(str(p) if isinstance(p, Expr) else escape(p) for p in pieces) + '"')


def _pieces(src: Source, text: str) -> list[str]:
    """`text` as literal parts and interpolations (Expr)."""
    if (arn := arns.parse_arn(text)) is not None:
        fields: list[str] = ["arn", arn.partition, arn.service, arn.region, arn.account, arn.resource]
        if arn.region == src.region:
            fields[3] = Expr(REGION)
        if src.account is not None and arn.account == src.account:
            fields[4] = Expr(ACCOUNT_ID)
        return [piece for i, field in enumerate(fields) for piece in ([":"] if i else []) + [field]]
    endpoint = re.fullmatch(r"([a-z0-9-]+\.)([a-z0-9-]+)(\.amazonaws\.com(?:\.cn)?)", text)
    if endpoint and endpoint.group(2) == src.region:
        return [endpoint.group(1), Expr(REGION), endpoint.group(3)]
    return [text]


def _account_block(src: Source) -> list[Block]:
    """aws_s3_account_public_access_block: the home account's own Block Public Access (S3 Control
    PutPublicAccessBlock; the provider's account when account_id is left out)."""
    block = src.desired.account_public_access_block.get("home")
    if block is None:
        return []
    return [Block("resource", ["aws_s3_account_public_access_block", "home"], {
        "block_public_acls": block.block_public_acls, "ignore_public_acls": block.ignore_public_acls,
        "block_public_policy": block.block_public_policy, "restrict_public_buckets": block.restrict_public_buckets})]


def _ref(kind: str, name: str, attribute: str) -> Expr:
    return Expr(f"{TYPES[kind]}.{snake(name)}.{attribute}")


def _resolve(src: Source) -> Any:
    def resolve(reference: str) -> Any:
        if reference == ORCHESTRATE:  # whoever deploys the configuration: its key manager
            return Expr("var.key_manager_arn")
        kind, _, name = reference.partition(":")
        if kind in ("bucket", "object") and foreign_account(src.desired, reference) is not None:
            # another account's bucket: named with the same prefix by that account's export
            return Expr(f'"{arns.bucket_arn(BUCKET_PREFIX + escape(name), PARTITION)}"')
        shared = account_level(src.desired, src.region, reference, ROOT)
        if shared is not None:
            return _localise(src, shared)
        if kind == "object":
            bucket, _, key = name.partition("/")
            return Expr(f'"${{{TYPES["bucket"]}.{snake(bucket)}.arn}}/{escape(key)}"')
        if kind == "session":  # a role session's ARN: the role's name, then the session's
            role, _, session = name.partition("/")
            return Expr(f'"{arns.assumed_role_arn(ACCOUNT_ID, "${" + _ref("role", role, "name") + "}", escape(session), PARTITION)}"')
        return _ref(kind, name, "arn")
    return resolve


def _document(src: Source, document: Any) -> dict[str, Any]:
    """A policy with the template's references, region and account."""
    mapped = map_policy(document.model_dump(mode="json", by_alias=True, exclude_none=True), _resolve(src))
    return _localise(src, terraform_org.map_document(src, mapped))


def _policy(src: Source, document: Any) -> Any:
    return jsonencode(_document(src, document))


def _tags(src: Source, name: str, tags: dict[str, str]) -> dict[str, str]:
    return dict(sorted(src.ownership_tags(name, tags).items()))


def _managed_arn(src: Source, name: str) -> Any:
    kind, value = managed_policy_name(name)
    if kind == "scenario":
        return _ref("policy", value, "arn")
    return _localise(src, value) if kind == "arn" else Expr(f'"{arns.aws_managed_policy_arn(escape(value), PARTITION)}"')


def _access(src: Source, kind: str, name: str, entity: Any) -> list[Block]:
    """Inline policies and managed policy attachments of a user, group or role."""
    owner = {"user": "user", "group": "group", "role": "role"}[kind]
    owner_ref = _ref(kind, name, "name")
    blocks = [Block("resource", [f"aws_iam_{owner}_policy", snake(f"{name}_{policy}")],
                    {"name": policy, owner: owner_ref, "policy": _policy(src, document)})
              for policy, document in sorted(entity.inline_policies.items())]
    for arn in sorted(entity.managed_policies):
        label = snake(f"{name}_{managed_policy_name(arn)[1].rpartition('/')[2]}")
        blocks.append(Block("resource", [f"aws_iam_{owner}_policy_attachment", label],
                            {owner: owner_ref, "policy_arn": _managed_arn(src, arn)}))
    return blocks


def _policies(src: Source) -> list[Block]:
    return [Block("resource", ["aws_iam_policy", snake(name)], {
        "name": name, "path": src.iam_path(), "description": src.desired.policies[name].description,
        "policy": _policy(src, src.desired.policies[name].document), "tags": _tags(src, name, {})})
        for name in src.names("policies")]


def _groups(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("groups"):
        blocks.append(Block("resource", ["aws_iam_group", snake(name)], {"name": name, "path": src.iam_path()}))
        blocks += _access(src, "group", name, src.desired.groups[name])
    return blocks


def _users(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("users"):
        user = src.desired.users[name]
        attributes: dict[str, Any] = {"name": name}
        if user.permissions_boundary:
            attributes["permissions_boundary"] = _managed_arn(src, user.permissions_boundary)
        attributes["tags"] = _tags(src, name, user.tags)
        blocks.append(Block("resource", ["aws_iam_user", snake(name)], attributes))
        blocks += _access(src, "user", name, user)
        if user.groups:
            blocks.append(Block("resource", ["aws_iam_user_group_membership", snake(name)], {
                "user": _ref("user", name, "name"), "groups": [_ref("group", g, "name") for g in sorted(user.groups)]}))
    return blocks


def _roles(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("roles"):
        role = src.desired.roles[name]
        attributes: dict[str, Any] = {"name": name, "path": role.path,
                                      "assume_role_policy": _policy(src, role.trust_policy),
                                      "max_session_duration": role.max_session_seconds}
        if role.description:
            attributes["description"] = role.description
        if role.permissions_boundary:
            attributes["permissions_boundary"] = _managed_arn(src, role.permissions_boundary)
        attributes["tags"] = _tags(src, name, role.tags)
        blocks.append(Block("resource", ["aws_iam_role", snake(name)], attributes))
        blocks += _access(src, "role", name, role)
    return blocks


def _keys(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("keys"):
        key = src.desired.keys[name]
        document = _document(src, key.policy)
        if key.lockout == "guard":
            document["Statement"] = list(document.get("Statement", [])) + [guard_statement(Expr("var.key_manager_arn"))]
        attributes: dict[str, Any] = {
            "description": key.description, "key_usage": key.usage, "customer_master_key_spec": key.spec,
            "is_enabled": key.usable, "enable_key_rotation": key.rotation,
            "deletion_window_in_days": key.deletion_window_days, "policy": jsonencode(document)}
        if key.lockout == "allow":
            attributes["bypass_policy_lockout_safety_check"] = True
        attributes["tags"] = _tags(src, name, key.tags)
        blocks.append(Block("resource", ["aws_kms_key", snake(name)], attributes))
        blocks += [Block("resource", ["aws_kms_alias", snake(f"{name}_{alias.removeprefix('alias/')}")],
                         {"name": alias, "target_key_id": _ref("key", name, "key_id")}) for alias in sorted(key.aliases)]
        blocks += [_grant(src, name, grant_name, grant) for grant_name, grant in sorted(key.grants.items())]
    return blocks


def _grant(src: Source, key: str, name: str, grant: Any) -> Block:
    """aws_kms_grant, named as orchestrate names its grants (`orchestrate/NAME`)."""
    resolve = _resolve(src)
    attributes: dict[str, Any] = {"name": f"{NAME_PREFIX}{name}", "key_id": _ref("key", key, "key_id"),
                                  "grantee_principal": resolve(grant.grantee), "operations": sorted(set(grant.operations))}
    if grant.retiring_principal:
        attributes["retiring_principal"] = resolve(grant.retiring_principal)
    if grant.constraints is not None:
        attributes["constraints"] = Block("constraints", [], grant.constraints.model_dump(exclude_none=True))
    return Block("resource", ["aws_kms_grant", snake(f"{key}_{name}")], attributes)


def _tables(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("tables"):
        table = src.desired.tables[name]
        attributes: dict[str, Any] = {"name": name, "billing_mode": table.billing_mode, "hash_key": table.partition_key.name}
        if table.sort_key:
            attributes["range_key"] = table.sort_key.name
        if table.billing_mode == "PROVISIONED":
            attributes |= {"read_capacity": table.read_capacity, "write_capacity": table.write_capacity}
        attributes["attribute"] = [Block("attribute", [], {"name": a.name, "type": a.type}) for a in table.key_attributes()]
        if table.encryption != "aws-owned":
            sse: dict[str, Any] = {"enabled": True}
            if table.encryption.startswith("key:"):
                sse["kms_key_arn"] = _ref("key", table.encryption.removeprefix("key:"), "arn")
            attributes["server_side_encryption"] = Block("server_side_encryption", [], sse)
        attributes["tags"] = _tags(src, name, table.tags)
        blocks.append(Block("resource", ["aws_dynamodb_table", snake(name)], attributes))
        if table.policy is not None:
            blocks.append(Block("resource", ["aws_dynamodb_resource_policy", snake(name)], {
                "resource_arn": _ref("table", name, "arn"), "policy": _policy(src, table.policy)}))
        blocks += _items(name, table)
    return blocks


def _items(name: str, table: Any) -> list[Block]:
    """aws_dynamodb_table_item per seed item, its item in DynamoDB JSON (AttributeValue)."""
    blocks = []
    for number, item in enumerate(table.items):
        attributes: dict[str, Any] = {"table_name": _ref("table", name, "name"), "hash_key": _ref("table", name, "hash_key")}
        if table.sort_key:
            attributes["range_key"] = _ref("table", name, "range_key")
        attributes["item"] = jsonencode(_wire(to_attribute_values(item)))
        blocks.append(Block("resource", ["aws_dynamodb_table_item", snake(f"{name}_{number}")], attributes))
    return blocks


def _wire(value: Any) -> Any:
    """DynamoDB JSON as text: a binary value (boto3's Binary, bytes) is base64 (DynamoDB API
    Reference, AttributeValue: B is "Base64-encoded binary")."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, (bytes, bytearray)) or type(value).__name__ == "Binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _public_settings(bucket: Any, name: str, label: str) -> list[Block]:
    """aws_s3_bucket_ownership_controls and aws_s3_bucket_public_access_block, when declared."""
    blocks = []
    if bucket.object_ownership is not None:
        blocks.append(Block("resource", ["aws_s3_bucket_ownership_controls", label], {
            "bucket": _ref("bucket", name, "id"),
            "rule": Block("rule", [], {"object_ownership": bucket.object_ownership})}))
    block = bucket.public_access_block
    if block is not None:
        blocks.append(Block("resource", ["aws_s3_bucket_public_access_block", label], {
            "bucket": _ref("bucket", name, "id"), "block_public_acls": block.block_public_acls,
            "ignore_public_acls": block.ignore_public_acls, "block_public_policy": block.block_public_policy,
            "restrict_public_buckets": block.restrict_public_buckets}))
    return blocks


def _bucket_name(name: str) -> Expr:
    """The scenario's bucket name after `var.bucket_prefix` (S3 bucket names are global)."""
    return Expr(f'"{BUCKET_PREFIX}{escape(name)}"')


def _buckets(src: Source) -> list[Block]:
    blocks = []
    for name in src.names("buckets"):
        bucket = src.desired.buckets[name]
        label = snake(name)
        blocks.append(Block("resource", ["aws_s3_bucket", label], {"bucket": _bucket_name(name), "tags": _tags(src, name, bucket.tags)}))
        depends = []
        if bucket.encryption != "aws-owned" or bucket.bucket_key:
            default: dict[str, Any] = {"sse_algorithm": "AES256" if bucket.encryption == "aws-owned" else "aws:kms"}
            if bucket.encryption.startswith("key:"):
                default["kms_master_key_id"] = _ref("key", bucket.encryption.removeprefix("key:"), "arn")
            rule = {"apply_server_side_encryption_by_default": Block("x", [], default), "bucket_key_enabled": bucket.bucket_key}
            blocks.append(Block("resource", ["aws_s3_bucket_server_side_encryption_configuration", label], {
                "bucket": _ref("bucket", name, "id"), "rule": Block("rule", [], rule)}))
            depends.append(Expr(f"aws_s3_bucket_server_side_encryption_configuration.{label}"))
        blocks.extend(_public_settings(bucket, name, label))
        if bucket.policy is not None:
            blocks.append(Block("resource", ["aws_s3_bucket_policy", label], {
                "bucket": _ref("bucket", name, "id"), "policy": _policy(src, bucket.policy)}))
        for item in bucket.objects:
            attributes: dict[str, Any] = {"bucket": _ref("bucket", name, "id"), "key": item.key, "content": item.body,
                                          "metadata": {HASH_METADATA: body_hash(item.body)}}
            if depends:
                attributes["depends_on"] = depends  # written under the bucket's default encryption
            blocks.append(Block("resource", ["aws_s3_object", snake(f"{name}_{item.key}")], attributes))
    return blocks
