"""Template resources as scenario entities.

Follows the CloudFormation "Resource and property reference" of each type: AWS::KMS::Key
(KeyPolicy, KeySpec, KeyUsage, Enabled, EnableKeyRotation, PendingWindowInDays,
BypassPolicyLockoutSafetyCheck), AWS::KMS::Alias (AliasName, TargetKeyId), AWS::DynamoDB::Table
(KeySchema, AttributeDefinitions, BillingMode, ProvisionedThroughput, SSESpecification,
ResourcePolicy), AWS::IAM::User / Group / Role (ManagedPolicyArns, Policies, Groups,
PermissionsBoundary, AssumeRolePolicyDocument, MaxSessionDuration, Path), AWS::IAM::ManagedPolicy
and AWS::IAM::Policy (PolicyDocument, Users, Groups, Roles), AWS::IAM::UserPolicy / GroupPolicy /
RolePolicy, AWS::IAM::UserToGroupAddition (GroupName, Users), AWS::S3::Bucket (BucketEncryption, PublicAccessBlockConfiguration, OwnershipControls)
and AWS::S3::BucketPolicy (Bucket, PolicyDocument). A key without KeyPolicy gets KMS's default key
policy (KMS Developer Guide, "Default key policy": the account root, kms:*), as CloudFormation
does. AWS::Organizations::Policy, AWS::Organizations::OrganizationalUnit and AWS::EC2::VPCEndpoint
are organization.py's. A type orchestrate does not declare is skipped, with a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator import arns
from orchestrator.constants import TAG_PREFIX
from orchestrator.imports import organization
from orchestrator.imports.documents import document
from orchestrator.imports.intrinsics import Entity, Resolver, Unresolved, entity_named, to_text
from orchestrator.imports.names import NAME_PROPERTIES, fit, name_tag, physical_name, tags_of
from orchestrator.model.names import scenario_path

SECTIONS = {"policy": "policies", "group": "groups", "user": "users", "role": "roles", "key": "keys",
            "table": "tables", "bucket": "buckets"}
ATTACHMENTS = ("AWS::KMS::Alias", "AWS::IAM::Policy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy",
               "AWS::IAM::RolePolicy", "AWS::IAM::UserToGroupAddition", "AWS::S3::BucketPolicy")
DEFAULT_KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": "account"}, "Action": "kms:*", "Resource": "*"}]}
AWS_MANAGED_POLICY = arns.AWS_MANAGED_POLICY_PREFIX
#: The object the importer seeds in each bucket: a template declares none, and a read of an object
#: that is not there is a 404 that decides nothing about access (loader/bucket_checks.py), so
#: without it no s3:GetObject could be proposed and a bucket policy's Deny would go untested.
PROBE_OBJECT = {"key": "orchestrate-probe.txt", "body": "seeded by orchestrate import to prove who may read it"}
_IDENTITY = ("ManagedPolicyArns", "Policies", "PermissionsBoundary")
#: The properties each mapped type's handler reads (its name property and Tags too): any other is
#: dropped, and said so (`Imported.dropped`): the scenario language has no place for it.
MAPPED_PROPERTIES: dict[str, frozenset[str]] = {kind: frozenset(names) for kind, names in {
    "AWS::KMS::Key": ("Description", "KeySpec", "KeyUsage", "Enabled", "EnableKeyRotation", "PendingWindowInDays",
                      "KeyPolicy", "BypassPolicyLockoutSafetyCheck", "Tags"),
    "AWS::KMS::Alias": ("AliasName", "TargetKeyId"),
    "AWS::DynamoDB::Table": ("TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput",
                             "SSESpecification", "ResourcePolicy", "Tags"),
    "AWS::IAM::User": ("UserName", "Groups", *_IDENTITY, "Tags"),
    "AWS::IAM::Group": ("GroupName", *_IDENTITY),
    "AWS::IAM::Role": ("RoleName", "Description", "Path", "AssumeRolePolicyDocument", "MaxSessionDuration", *_IDENTITY, "Tags"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "Description", "PolicyDocument", "Users", "Groups", "Roles"),
    "AWS::IAM::Policy": ("PolicyName", "PolicyDocument", "Users", "Groups", "Roles"),
    "AWS::IAM::UserPolicy": ("PolicyName", "PolicyDocument", "UserName"),
    "AWS::IAM::GroupPolicy": ("PolicyName", "PolicyDocument", "GroupName"),
    "AWS::IAM::RolePolicy": ("PolicyName", "PolicyDocument", "RoleName"),
    "AWS::IAM::UserToGroupAddition": ("GroupName", "Users"),
    "AWS::S3::Bucket": ("BucketName", "BucketEncryption", "PublicAccessBlockConfiguration", "OwnershipControls", "Tags"),
    "AWS::S3::BucketPolicy": ("Bucket", "PolicyDocument"),
}.items()}


@dataclass
class Imported:
    """The scenario sections made from a template, and what could not be imported."""

    sections: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {s: {} for s in SECTIONS.values()})
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (logical id, type)
    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (logical id, type, property)
    #: `organization`, `vpc_endpoints` and the `accounts` a policy targets (imports/organization.py).
    extra: dict[str, Any] = field(default_factory=dict)


def index_entities(resources: dict[str, dict[str, Any]], resolver: Resolver | None = None) -> dict[str, Entity]:
    """Logical id -> the entity it declares, names made unique per kind; names given by intrinsic
    functions (`TableName: !Sub orders-${Env}`) resolved by ``resolver`` (one that knows no entities:
    a name cannot depend on another resource's here), a name it cannot resolve noted."""
    entities: dict[str, Entity] = {}
    taken: set[tuple[str, str]] = set()
    for logical, resource in resources.items():
        if resource["Type"] not in NAME_PROPERTIES:
            continue
        kind, properties, resolve = NAME_PROPERTIES[resource["Type"]][0], resource.get("Properties") or {}, _name_text(resolver, logical)
        physical = physical_name(resource["Type"], properties, resolve)
        base = fit(kind, name_tag(properties, resolve) or physical or logical)
        name, number = base, 2
        while (kind, name) in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add((kind, name))
        entities[logical] = Entity(kind, name, physical)
    return entities


def _name_text(resolver: Resolver | None, logical: str) -> Callable[[Any], Any]:
    """A name property's value resolved to text; None (so the logical id names it) when unknown."""
    def resolve(value: Any) -> Any:
        if resolver is None:
            return value
        try:
            return to_text(resolver.resolve(value))
        except Unresolved as why:
            resolver.notes.append(f"{logical}: its name is not known from the template ({why}); named {logical}")
            return None
    return resolve


def import_resources(resources: dict[str, dict[str, Any]], resolver: Resolver, scenario: str) -> Imported:
    imported = Imported(notes=resolver.notes)
    physical = _physical_names(resolver.entities)
    mapper = Mapper(resolver, imported, physical, scenario)
    for logical, resource in resources.items():
        if resource["Type"] not in NAME_PROPERTIES and resource["Type"] not in ATTACHMENTS + organization.TYPES:
            imported.skipped.append((logical, resource["Type"]))
    for phase in (NAME_PROPERTIES, ATTACHMENTS):
        for logical, resource in resources.items():
            if resource["Type"] in phase and mapper.included(logical, resource):
                mapper.map(logical, resource)
    _map_organization(resources, mapper)
    return imported


def _map_organization(resources: dict[str, dict[str, Any]], mapper: Mapper) -> None:
    """Units first (policies name them), then policies and endpoints; each property resolved as read,
    so a parameter the mapping does not read (an endpoint's route tables) leaves nothing out."""
    org = organization.OrganizationMapper(mapper.resolver, mapper.note, mapper.imported.extra)
    for kind in organization.TYPES:
        for logical, resource in resources.items():
            if resource["Type"] != kind or not mapper.included(logical, resource):
                continue
            try:
                dropped = org.map(logical, resource)
            except Unresolved as why:
                mapper.note(logical, f"not imported ({kind}): {why}")
                continue
            except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
                mapper.note(logical, f"not imported ({kind}): a property is not of the documented shape ({error})")
                continue
            mapper.imported.dropped += [(logical, kind, name) for name in dropped]


def _physical_names(entities: dict[str, Entity]) -> dict[str, dict[str, str]]:
    """Per kind, physical name (as resolved by index_entities) and logical id -> scenario name, for
    properties that name one literally."""
    found: dict[str, dict[str, str]] = {kind: {} for kind in SECTIONS}
    for logical, entity in entities.items():
        found.setdefault(entity.kind, {})[logical] = entity.name
        if entity.physical is not None:
            found[entity.kind][entity.physical] = entity.name
    return found


def _without_name(resource: dict[str, Any]) -> dict[str, Any]:
    """The properties but the physical name, which index_entities has read (noting one it could not
    resolve): a name the template does not give names the entity by its logical id, not loses it."""
    properties = resource.get("Properties") or {}
    name_property = NAME_PROPERTIES.get(resource["Type"], (None, None))[1]
    return {key: value for key, value in properties.items() if key != name_property}


@dataclass
class Mapper:
    resolver: Resolver
    imported: Imported
    physical: dict[str, dict[str, str]]
    scenario: str

    def included(self, logical: str, resource: dict[str, Any]) -> bool:
        """"Conditions": a resource whose Condition is false is not created."""
        condition = resource.get("Condition")
        if not isinstance(condition, str):
            return True
        try:
            holds = self.resolver.condition(condition)
        except Unresolved as why:
            self.note(logical, f"its condition is not known from the template ({why}); imported as if it held")
            return True
        if not holds:
            self.note(logical, f"not imported: its condition {condition} is false")
        return holds

    def note(self, logical: str, text: str) -> None:
        self.imported.notes.append(f"{logical}: {text}")

    def map(self, logical: str, resource: dict[str, Any]) -> None:
        handler: Callable[[str, dict[str, Any]], None] = getattr(self, "_" + resource["Type"].split("::", 1)[1].replace("::", "_").lower())
        try:
            properties = self.resolver.resolve(_without_name(resource))
            handler(logical, properties)
            self.imported.dropped += [(logical, resource["Type"], name) for name in properties
                                      if name not in MAPPED_PROPERTIES[resource["Type"]]]
        except Unresolved as why:
            self.note(logical, f"not imported ({resource['Type']}): {why}")
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
            # a property of another shape than the type's reference says: the resource, not the import, fails
            self.note(logical, f"not imported ({resource['Type']}): a property is not of the documented shape ({error})")

    def _entity(self, logical: str) -> tuple[str, str]:
        entity = self.resolver.entities[logical]
        return SECTIONS[entity.kind], entity.name

    def _put(self, logical: str, value: dict[str, Any]) -> None:
        section, name = self._entity(logical)
        self.imported.sections[section][name] = value

    def _named(self, value: Any, kind: str, logical: str, what: str) -> str | None:
        name = entity_named(value, kind, self.physical[kind])
        if name is None:
            self.note(logical, f"{what} {to_text(value)!r} is not a {kind} of this template: left out")
        return name

    # properties shared by IAM principals -------------------------------------------
    def _identity(self, logical: str, properties: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        managed = [m for m in (self._managed_name(arn, logical) for arn in properties.get("ManagedPolicyArns") or []) if m]
        if managed:
            found["managed_policies"] = managed
        inline = {str(p["PolicyName"]): document(p["PolicyDocument"], self.resolver)
                  for p in properties.get("Policies") or [] if isinstance(p, dict) and "PolicyName" in p}
        if inline:
            found["inline_policies"] = inline
        if properties.get("PermissionsBoundary"):
            boundary = self._managed_name(properties["PermissionsBoundary"], logical)
            if boundary:
                found["permissions_boundary"] = boundary
        return found

    def _managed_name(self, arn: Any, logical: str) -> str | None:
        """`policy:NAME` for a policy of the template, the name of an AWS managed policy."""
        name = entity_named(arn, "policy", self.physical["policy"])
        if name is not None:
            return f"policy:{name}"
        text = to_text(arn)
        if isinstance(text, str) and text.startswith(AWS_MANAGED_POLICY):
            return text.removeprefix(AWS_MANAGED_POLICY)
        self.note(logical, f"managed policy {text!r} is neither AWS managed nor of this template: left out")
        return None

    def _tags(self, properties: dict[str, Any]) -> dict[str, Any]:
        tags = {k: to_text(v) for k, v in tags_of(properties).items() if not k.startswith(TAG_PREFIX)}
        return {"tags": tags} if tags else {}

    # principals --------------------------------------------------------------------
    def _iam_user(self, logical: str, properties: dict[str, Any]) -> None:
        user = self._identity(logical, properties)
        groups = [g for g in (self._named(v, "group", logical, "group") for v in properties.get("Groups") or []) if g]
        if groups:
            user["groups"] = groups
        self._put(logical, {**user, **self._tags(properties)})

    def _iam_group(self, logical: str, properties: dict[str, Any]) -> None:
        self._put(logical, self._identity(logical, properties))

    def _iam_role(self, logical: str, properties: dict[str, Any]) -> None:
        role: dict[str, Any] = {}
        if properties.get("Description"):
            role["description"] = to_text(properties["Description"])
        path = properties.get("Path")
        if isinstance(path, str) and path not in ("/", scenario_path(self.scenario)):
            role["path"] = path
        role["trust_policy"] = document(properties.get("AssumeRolePolicyDocument"), self.resolver)
        role.update(self._identity(logical, properties))
        if properties.get("MaxSessionDuration") is not None:
            role["max_session_seconds"] = int(properties["MaxSessionDuration"])
        self._put(logical, {**role, **self._tags(properties)})

    def _iam_managedpolicy(self, logical: str, properties: dict[str, Any]) -> None:
        policy: dict[str, Any] = {}
        if properties.get("Description"):
            policy["description"] = to_text(properties["Description"])
        policy["document"] = document(properties.get("PolicyDocument"), self.resolver)
        self._put(logical, policy)
        name = self._entity(logical)[1]
        for kind in ("user", "group", "role"):
            for value in properties.get(kind.capitalize() + "s") or []:
                holder = self._named(value, kind, logical, kind)
                if holder is not None and holder in self.imported.sections[SECTIONS[kind]]:
                    self.imported.sections[SECTIONS[kind]][holder].setdefault("managed_policies", []).append(f"policy:{name}")

    # attachments -------------------------------------------------------------------
    def _iam_policy(self, logical: str, properties: dict[str, Any]) -> None:
        """An inline policy embedded in each user, group and role it names."""
        name, body = str(properties.get("PolicyName") or logical), document(properties.get("PolicyDocument"), self.resolver)
        for kind in ("user", "group", "role"):
            for value in properties.get(kind.capitalize() + "s") or []:
                self._embed(logical, kind, value, name, body)

    def _embed(self, logical: str, kind: str, holder_value: Any, name: str, body: dict[str, Any]) -> None:
        holder = self._named(holder_value, kind, logical, kind)
        if holder is not None and holder in self.imported.sections[SECTIONS[kind]]:
            self.imported.sections[SECTIONS[kind]][holder].setdefault("inline_policies", {})[name] = body

    def _iam_userpolicy(self, logical: str, properties: dict[str, Any]) -> None:
        self._embed(logical, "user", properties.get("UserName"), str(properties.get("PolicyName")), document(properties.get("PolicyDocument"), self.resolver))

    def _iam_grouppolicy(self, logical: str, properties: dict[str, Any]) -> None:
        self._embed(logical, "group", properties.get("GroupName"), str(properties.get("PolicyName")), document(properties.get("PolicyDocument"), self.resolver))

    def _iam_rolepolicy(self, logical: str, properties: dict[str, Any]) -> None:
        self._embed(logical, "role", properties.get("RoleName"), str(properties.get("PolicyName")), document(properties.get("PolicyDocument"), self.resolver))

    def _iam_usertogroupaddition(self, logical: str, properties: dict[str, Any]) -> None:
        group = self._named(properties.get("GroupName"), "group", logical, "group")
        for value in properties.get("Users") or []:
            user = self._named(value, "user", logical, "user")
            if group is not None and user is not None and user in self.imported.sections["users"]:
                groups = self.imported.sections["users"][user].setdefault("groups", [])
                if group not in groups:
                    groups.append(group)

    def _kms_alias(self, logical: str, properties: dict[str, Any]) -> None:
        key = self._named(properties.get("TargetKeyId"), "key", logical, "TargetKeyId")
        if key is not None and key in self.imported.sections["keys"]:
            self.imported.sections["keys"][key].setdefault("aliases", []).append(to_text(properties.get("AliasName")))

    def _s3_bucketpolicy(self, logical: str, properties: dict[str, Any]) -> None:
        bucket = self._named(properties.get("Bucket"), "bucket", logical, "Bucket")
        if bucket is not None and bucket in self.imported.sections["buckets"]:
            self.imported.sections["buckets"][bucket]["policy"] = document(properties.get("PolicyDocument"), self.resolver)

    # data --------------------------------------------------------------------------
    def _kms_key(self, logical: str, properties: dict[str, Any]) -> None:
        key: dict[str, Any] = {}
        fields = {"Description": "description", "KeySpec": "spec", "KeyUsage": "usage", "Enabled": "enabled",
                  "EnableKeyRotation": "rotation", "PendingWindowInDays": "deletion_window_days"}
        for prop, field_name in fields.items():
            if prop in properties:
                key[field_name] = to_text(properties[prop])
        key.update(self._tags(properties))
        policy = properties.get("KeyPolicy")
        key["policy"] = document(policy, self.resolver) if policy is not None else DEFAULT_KEY_POLICY
        if properties.get("BypassPolicyLockoutSafetyCheck") in (True, "true"):
            key["lockout"] = "allow"
        self._put(logical, key)

    def _dynamodb_table(self, logical: str, properties: dict[str, Any]) -> None:
        types = {d.get("AttributeName"): d.get("AttributeType", "S") for d in properties.get("AttributeDefinitions") or []}
        table: dict[str, Any] = {}
        for element in properties.get("KeySchema") or []:
            slot = "partition_key" if element.get("KeyType") == "HASH" else "sort_key"
            table[slot] = {"name": element.get("AttributeName"), "type": types.get(element.get("AttributeName"), "S")}
        throughput = properties.get("ProvisionedThroughput") or {}
        billing = properties.get("BillingMode") or ("PROVISIONED" if throughput else "PAY_PER_REQUEST")
        if billing != "PAY_PER_REQUEST":
            table.update(billing_mode=billing, read_capacity=throughput.get("ReadCapacityUnits"),
                         write_capacity=throughput.get("WriteCapacityUnits"))
        encryption = self._table_encryption(logical, properties.get("SSESpecification") or {})
        if encryption != "aws-owned":
            table["encryption"] = encryption
        table.update(self._tags(properties))
        policy = (properties.get("ResourcePolicy") or {}).get("PolicyDocument")
        if policy is not None:
            table["policy"] = document(policy, self.resolver)
        self._put(logical, table)

    def _table_encryption(self, logical: str, sse: dict[str, Any]) -> str:
        """SSESpecification: off is an AWS owned key, on without a key id the AWS managed key."""
        if sse.get("SSEEnabled") not in (True, "true"):
            return "aws-owned"
        return self._sse_key(logical, sse.get("KMSMasterKeyId"), "alias/aws/dynamodb")

    def _sse_key(self, logical: str, key_id: Any, managed_alias: str) -> str:
        if key_id in (None, managed_alias):
            return "aws-managed"
        key = self._named(key_id, "key", logical, "KMS key")
        return f"key:{key}" if key is not None else "aws-managed"

    def _s3_bucket(self, logical: str, properties: dict[str, Any]) -> None:
        bucket: dict[str, Any] = {}
        rules = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
        rule = rules[0] if rules and isinstance(rules[0], dict) else {}
        default = rule.get("ServerSideEncryptionByDefault") or {}
        if str(default.get("SSEAlgorithm", "AES256")).startswith("aws:kms"):
            bucket["encryption"] = self._sse_key(logical, default.get("KMSMasterKeyID"), "alias/aws/s3")
        if rule.get("BucketKeyEnabled") in (True, "true") and "encryption" in bucket:  # S3 Bucket Keys are SSE-KMS only
            bucket["bucket_key"] = True
        bucket.update(_public_settings(properties))
        bucket.update(self._tags(properties))
        bucket["objects"] = [dict(PROBE_OBJECT)]
        self._put(logical, bucket)


#: AWS::S3::Bucket PublicAccessBlockConfiguration's names -> the scenario's.
_BLOCK_NAMES = {"BlockPublicAcls": "block_public_acls", "IgnorePublicAcls": "ignore_public_acls",
                "BlockPublicPolicy": "block_public_policy", "RestrictPublicBuckets": "restrict_public_buckets"}


def _public_settings(properties: dict[str, Any]) -> dict[str, Any]:
    """A bucket's public_access_block and object_ownership from its AWS::S3::Bucket properties."""
    found: dict[str, Any] = {}
    block = properties.get("PublicAccessBlockConfiguration")
    if isinstance(block, dict):
        found["public_access_block"] = {name: block.get(key) in (True, "true") for key, name in _BLOCK_NAMES.items()}
    rules = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if rules and isinstance(rules[0], dict) and rules[0].get("ObjectOwnership"):
        found["object_ownership"] = str(rules[0]["ObjectOwnership"])
    return found
