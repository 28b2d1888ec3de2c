"""The world the gate reads: what AWS's authorization layer knows when it decides a request.

The gate decides requests *before* the backend runs them, so it needs the same facts AWS's
authorization layer would have: who owns an access key, which policies apply to that identity
(IAM User Guide, "Policy evaluation logic" and "Identity-based policies and resource-based
policies"), the key policy, state and grants of a KMS key (AWS KMS Developer Guide, "Key policies",
"Grants in AWS KMS", "Key states of AWS KMS keys"), the encryption settings of a DynamoDB table
("DynamoDB encryption at rest") and the policy and default encryption of an S3 bucket.

This module declares those facts as records and the reads as the :class:`World` Protocol. Its
implementations live where their data does: moto's in-process state in
``orchestrator/backends/moto_world.py`` (and its lagging view under ``serve``,
``backends/lagging_world.py``), a scenario's desired state in ``prove/desired_world.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Protocol

from orchestrator.authz.engine.organization import Membership
from orchestrator.authz.engine.request import Principal
from orchestrator.constants import DEFAULT_ACCOUNT

__all__ = [
    "session_principal_tags",
    "BucketInfo",
    "PublicAccessBlockInfo",
    "GrantInfo",
    "Identity",
    "KeyInfo",
    "KeySecret",
    "KeyStore",
    "ObjectInfo",
    "PolicyDoc",
    "RoleInfo",
    "TableInfo",
    "World",
    "DEFAULT_ACCOUNT",
]

_PARTITION = "aws"


@dataclass(frozen=True)
class PolicyDoc:
    """One policy document and where it came from (``kind`` as the engine names it)."""

    kind: str
    name: str
    document: str


@dataclass(frozen=True)
class Identity:
    """An authenticated identity: an IAM user, an assumed-role session, or (``administrator``)
    the orchestrator's own identity, whose IAM policies moto's world does not hold."""

    principal: Principal
    account: str
    user_name: str | None = None
    role_arn: str | None = None
    access_key_id: str | None = None
    administrator: bool = False
    #: A role session's session policies (AssumeRole's Policy, then each of its PolicyArns), as
    #: PolicyDoc kind "session" (IAM User Guide, "Session policies"); its session tags are in
    #: ``principal.tags`` already, over the role's.
    session_policies: tuple[PolicyDoc, ...] = ()


@dataclass(frozen=True)
class KeySecret:
    """What verifying a request's Signature Version 4 needs of its access key: the secret, and for
    temporary credentials the session token every request must carry and when they expire (IAM
    User Guide, "Manage access keys for IAM users": an ``Inactive`` key "can't be used to sign
    requests"; "Temporary security credentials in IAM"). Its ``repr`` shows no secret."""

    secret: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    #: When temporary credentials stop working (aware, UTC); None for a long-term key.
    expiration: datetime | None = None
    active: bool = True


@dataclass(frozen=True)
class RoleInfo:
    """An IAM role as sts:AssumeRole sees it: its trust policy (IAM User Guide, "Role terms and
    concepts") and its tags, which its sessions carry as aws:PrincipalTag."""

    name: str
    arn: str
    account: str
    role_id: str
    trust_policy: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GrantInfo:
    """A KMS grant (AWS KMS Developer Guide, "Grants in AWS KMS")."""

    grant_id: str
    name: str
    grantee_principal: str
    operations: tuple[str, ...]
    key_arn: str
    encryption_context_equals: Mapping[str, str] | None = None
    encryption_context_subset: Mapping[str, str] | None = None
    #: The principal that may retire it (CreateGrant's RetiringPrincipal; KMS Developer Guide,
    #: "Retiring and revoking grants"), None when the grant names none.
    retiring_principal: str | None = None
    #: Its grant token (CreateGrant's answer), by which RetireGrant may name it; "" when unknown.
    token: str = ""


@dataclass(frozen=True)
class KeyInfo:
    """A KMS key as authorization sees it."""

    key_id: str
    arn: str
    account: str
    region: str
    policy: str
    state: str
    enabled: bool
    aws_managed: bool
    aliases: tuple[str, ...] = ()
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    grants: tuple[GrantInfo, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    """A DynamoDB table; ``kms_key_ref`` is the SSE key as moto stored it (id, alias or ARN)."""

    name: str
    arn: str
    account: str
    region: str
    hash_key: str
    range_key: str | None
    kms_key_ref: str | None
    resource_policy: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketInfo:
    """An S3 bucket: owner, bucket policy and default encryption."""

    name: str
    arn: str
    account: str
    region: str
    policy: str | None
    sse_algorithm: str | None
    kms_key_id: str | None
    bucket_key_enabled: bool = False
    #: The bucket's own S3 Block Public Access (its owner account's is World.account_public_access_block;
    #: services/s3.py effective_block combines them: S3 User Guide, "Blocking public access to your
    #: Amazon S3 storage").
    block_public_policy: bool = False
    restrict_public_buckets: bool = False
    #: Object Ownership (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter); None: not set
    object_ownership: str | None = None


@dataclass(frozen=True)
class PublicAccessBlockInfo:
    """S3 Block Public Access settings (PublicAccessBlockConfiguration): an account's (S3 Control
    GetPublicAccessBlock with AccountId), or the effective ones of a bucket."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


@dataclass(frozen=True)
class ObjectInfo:
    """An existing S3 object's server-side encryption settings."""

    bucket: str
    key: str
    arn: str
    sse_algorithm: str | None
    kms_key_id: str | None
    bucket_key_enabled: bool = False


def session_principal_tags(role_tags: Mapping[str, str], session_tags: Mapping[str, str]) -> dict[str, str]:
    """A role session's aws:PrincipalTag values: the role's tags, with a session tag replacing the
    role's tag of the same key (IAM User Guide, "Passing session tags in AWS STS": "If a session
    tag has the same key as a role tag, the session tag value overrides the role tag value";
    tag keys are case-insensitive there, so a session tag replaces a role tag whatever its case)."""
    session_keys = {key.lower() for key in session_tags}
    merged = {key: value for key, value in role_tags.items() if key.lower() not in session_keys}
    merged.update(session_tags)
    return merged


class World(Protocol):
    """The reads the gate and the service authorizers make (every implementation answers all)."""

    def account_for_access_key(self, access_key_id: str | None) -> str: ...

    def identity_for_access_key(self, access_key_id: str | None) -> Identity | None: ...

    def identity_for_arn(self, principal_arn: str) -> Identity | None: ...

    def identity_policies(self, identity: Identity) -> list[PolicyDoc]: ...

    def permissions_boundary(self, identity: Identity) -> PolicyDoc | None: ...

    def managed_policy_document(self, account: str, arn: str) -> str | None: ...

    def role(self, role_arn: str) -> RoleInfo | None: ...

    def kms_key(self, key_ref: str | None, region: str, account: str) -> KeyInfo | None: ...

    def kms_key_from_ciphertext(self, blob: bytes | str | None, region: str, account: str) -> KeyInfo | None: ...

    def table(self, name_or_arn: str | None, region: str, account: str) -> TableInfo | None: ...

    def bucket(self, name: str | None) -> BucketInfo | None: ...

    def s3_object(self, bucket: str | None, key: str | None) -> ObjectInfo | None: ...

    def account_public_access_block(self, account: str) -> PublicAccessBlockInfo | None: ...

    def membership(self, account: str | None) -> Membership | None:
        """The account's place in its AWS Organizations organization (levels root first, with the
        SCPs and RCPs attached at each), None outside one (engine/organization.py). A world that
        has no organizations may omit it: the gate then reads None (gate/core.py, _membership)."""
        ...


class KeyStore(Protocol):
    """Where authentication finds an access key's secret (``orchestrate serve``'s world: moto's IAM
    and STS backends, ``backends/moto_world.py``); apart from :class:`World`, which a desired state
    answers too without holding any secret."""

    def secret_for_access_key(self, access_key_id: str) -> KeySecret | None: ...
