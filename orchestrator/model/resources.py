"""Declared AWS resources: KMS keys, DynamoDB tables, IAM users, groups and managed policies.

Field names and allowed values follow the AWS API references: KMS CreateKey (KeySpec, KeyUsage,
PendingWindowInDays 7-30), DynamoDB CreateTable (KeySchema, AttributeDefinitions, BillingMode,
SSESpecification, PutResourcePolicy) and IAM CreateUser/PutUserPolicy/AttachUserPolicy/PutUserPermissionsBoundary.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from orchestrator.constants import MAX_SESSION_SECONDS, ROLE_SESSION_SECONDS
from orchestrator.model.policy import STRICT, IdentityPolicyDocument, ResourcePolicyDocument, TrustPolicyDocument

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=,@-]{1,64}$")]
Tags = dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]]
#: The account an entity lives in: a name under the scenario's `accounts:`, or `home` (the default).
AccountName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                   description="the account it lives in: a name of `accounts:` (default: home)")]

# KMS developer guide, "Key spec reference": the key usages AWS allows for each key spec.
KEY_USAGES_BY_SPEC: dict[str, frozenset[str]] = {
    "SYMMETRIC_DEFAULT": frozenset({"ENCRYPT_DECRYPT"}),
    "RSA_2048": frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY"}),
    "RSA_3072": frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY"}),
    "RSA_4096": frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY"}),
    "ECC_NIST_P256": frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"}),
    "ECC_NIST_P384": frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"}),
    "ECC_NIST_P521": frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"}),
    "ECC_SECG_P256K1": frozenset({"SIGN_VERIFY"}),
    "HMAC_224": frozenset({"GENERATE_VERIFY_MAC"}),
    "HMAC_256": frozenset({"GENERATE_VERIFY_MAC"}),
    "HMAC_384": frozenset({"GENERATE_VERIFY_MAC"}),
    "HMAC_512": frozenset({"GENERATE_VERIFY_MAC"}),
    "SM2": frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"}),
}
KeySpec = Literal[
    "SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
    "ECC_NIST_P521", "ECC_SECG_P256K1", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
]
KeyUsage = Literal["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"]
Alias = Annotated[str, Field(pattern=r"^alias/[A-Za-z0-9/_-]{1,250}$")]


class Strict(BaseModel):
    model_config = STRICT


# KMS API Reference, CreateGrant: the GrantOperation enum (botocore's kms service model).
GrantOperation = Literal[
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret", "Encapsulate", "Decapsulate",
]
#: A grantee or retiring principal: a scenario user (`user:NAME`), role (`role:NAME`) or a principal ARN.
GrantPrincipal = Annotated[str, Field(pattern=r"^((user|role):[A-Za-z0-9_.+=,@-]{1,64}|arn:aws[a-z-]*:[a-z0-9-]+::(\d{12}|aws)?:\S+)$")]
#: CreateGrant's Name is `^[a-zA-Z0-9:/_-]+$`; `:` and `/` are kept out (orchestrate prefixes names).
GrantName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]


class GrantConstraints(Strict):
    """KMS API Reference, GrantConstraints: at most one of the two (KMS Developer Guide,
    "Grant constraints": "you can specify only one encryption context grant constraint")."""

    encryption_context_equals: dict[str, str] | None = None
    encryption_context_subset: dict[str, str] | None = None

    @model_validator(mode="after")
    def _only_one(self) -> GrantConstraints:
        if self.encryption_context_equals is not None and self.encryption_context_subset is not None:
            raise ValueError("encryption_context_equals and encryption_context_subset cannot both be given:"
                             " a grant takes only one encryption context constraint")
        return self


class KeyGrant(Strict):
    """A KMS grant on the key (KMS Developer Guide, "Grants in AWS KMS"), reconciled by name."""

    grantee: GrantPrincipal
    operations: Annotated[list[GrantOperation], Field(min_length=1)]
    retiring_principal: GrantPrincipal | None = None
    constraints: GrantConstraints | None = None


class Key(Strict):
    """A KMS customer managed key and its key policy."""

    description: str = ""
    aliases: list[Alias] = Field(default_factory=list)
    spec: KeySpec = "SYMMETRIC_DEFAULT"
    usage: KeyUsage = "ENCRYPT_DECRYPT"
    enabled: bool = True
    rotation: bool = False
    deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 7
    pending_deletion: StrictBool = Field(
        default=False,
        description="true: the key is scheduled for deletion with deletion_window_days (ScheduleKeyDeletion);"
        " false: a scheduled deletion is cancelled (CancelKeyDeletion), and the key comes back disabled"
        " unless `enabled` is true (KMS Developer Guide, \"Deleting AWS KMS keys\")",
    )
    tags: Tags = Field(default_factory=dict)
    account: AccountName | None = None
    policy: ResourcePolicyDocument
    lockout: Literal["guard", "allow"] = Field(
        default="guard",
        description="guard: the orchestrator keeps the right to manage the key and checks the policy against"
        " AWS's lockout rule; allow: send the policy as written (BypassPolicyLockoutSafetyCheck)",
    )
    grants: dict[GrantName, KeyGrant] = Field(
        default_factory=dict,
        description="KMS grants on the key by name (CreateGrant); a changed grant is revoked and created again",
    )

    @field_validator("aliases")
    @classmethod
    def _not_reserved(cls, aliases: list[str]) -> list[str]:
        for alias in aliases:
            if alias.startswith("alias/aws/"):
                raise ValueError(f"{alias!r}: the alias/aws/ prefix is reserved for AWS managed keys")
        return aliases

    @model_validator(mode="after")
    def _usage_fits_spec(self) -> Key:
        allowed = KEY_USAGES_BY_SPEC[self.spec]
        if self.usage not in allowed:
            raise ValueError(
                f"key usage {self.usage} is not allowed for key spec {self.spec}"
                f" (AWS allows {', '.join(sorted(allowed))})"
            )
        if self.rotation and self.spec != "SYMMETRIC_DEFAULT":
            raise ValueError("automatic rotation is only supported for symmetric encryption keys")
        return self

    @property
    def state(self) -> str:
        """The KeyState the key is declared to be in (KMS Developer Guide, "Key states of AWS KMS
        keys"): a key pending deletion is neither Enabled nor Disabled; `enabled` takes effect
        once its deletion is cancelled."""
        if self.pending_deletion:
            return "PendingDeletion"
        return "Enabled" if self.enabled else "Disabled"

    @property
    def usable(self) -> bool:
        """Whether cryptographic operations (and the tables encrypted under it) can use the key."""
        return self.state == "Enabled"


class KeyAttribute(Strict):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    type: Literal["S", "N", "B"] = "S"


EncryptionName = Literal["aws-owned", "aws-managed"]


class Table(Strict):
    """A DynamoDB table: key schema, billing mode, encryption at rest, seed items and its resource policy."""

    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    read_capacity: Annotated[int, Field(ge=1)] | None = None
    write_capacity: Annotated[int, Field(ge=1)] | None = None
    encryption: EncryptionName | Annotated[str, Field(pattern=r"^key:[A-Za-z0-9_.+=,@-]+$")] = "aws-owned"
    tags: Tags = Field(default_factory=dict)
    account: AccountName | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)
    policy: ResourcePolicyDocument | None = Field(
        default=None,
        description="the table's resource-based policy (PutResourcePolicy); scenario references"
        " user:NAME, account and table:NAME (this table) resolve to ARNs",
    )
    create_only: bool = Field(
        False, description="a table orchestrate does not create, keep or destroy: a `dynamodb:CreateTable`"
        " expectation makes the principal create it (this key schema, billing mode and `encryption`), and"
        " orchestrate deletes it right after; no items, no policy, and no other expectation on it")

    @model_validator(mode="after")
    def _create_only_holds_nothing(self) -> Table:
        if self.create_only and self.items:
            raise ValueError("a create_only table is created by the principal of its dynamodb:CreateTable expectation"
                             " and deleted right after: it has no items to seed")
        if self.create_only and self.policy is not None:
            raise ValueError("a create_only table is not orchestrate's to put a resource policy on")
        if self.create_only and self.account not in (None, "home"):
            raise ValueError("a create_only table is created by a principal of the home account: declare no account")
        return self

    @model_validator(mode="after")
    def _capacity_fits_billing(self) -> Table:
        provisioned = self.read_capacity is not None or self.write_capacity is not None
        if self.billing_mode == "PAY_PER_REQUEST" and provisioned:
            raise ValueError("read_capacity/write_capacity need billing_mode PROVISIONED")
        if self.billing_mode == "PROVISIONED" and (self.read_capacity is None or self.write_capacity is None):
            raise ValueError("billing_mode PROVISIONED needs read_capacity and write_capacity")
        return self

    def key_attributes(self) -> list[KeyAttribute]:
        return [self.partition_key] + ([self.sort_key] if self.sort_key else [])

    def key_name(self) -> str | None:
        """The scenario key this table is encrypted with, if any."""
        return self.encryption.removeprefix("key:") if self.encryption.startswith("key:") else None


class ManagedPolicy(Strict):
    """A customer managed IAM policy, attachable as `policy:NAME`."""

    description: str = ""
    document: IdentityPolicyDocument


PolicyName = Annotated[str, Field(pattern=r"^(policy:[A-Za-z0-9_.+=,@-]+|[A-Za-z0-9_+=,.@/-]+)$")]


class Group(Strict):
    managed_policies: list[PolicyName] = Field(default_factory=list)
    inline_policies: dict[Name, IdentityPolicyDocument] = Field(default_factory=dict)


class User(Strict):
    """An IAM user. AWS managed policies by name (`AmazonDynamoDBFullAccess`) or `policy:NAME`."""

    managed_policies: list[PolicyName] = Field(default_factory=list)
    inline_policies: dict[Name, IdentityPolicyDocument] = Field(default_factory=dict)
    groups: list[Name] = Field(default_factory=list)
    permissions_boundary: PolicyName | None = None
    tags: Tags = Field(default_factory=dict)
    account: AccountName | None = None


#: IAM API Reference, CreateRole: Path is `/` or `/segments/` of printable ASCII, at most 512.
RolePath = Annotated[str, Field(pattern=r"^/([\x21-\x7E]{1,510}/)?$", max_length=512)]


class Role(Strict):
    """An IAM role (IAM API Reference, CreateRole): its trust policy (a resource-based policy on
    the role, AssumeRolePolicyDocument), its permissions and the longest session it grants."""

    description: str = ""
    path: RolePath = "/"
    trust_policy: TrustPolicyDocument = Field(
        description="who may assume the role (sts:AssumeRole); Principal required, no Resource"
        " (IAM User Guide, \"Role terms and concepts\": trust policy)")
    managed_policies: list[PolicyName] = Field(default_factory=list)
    inline_policies: dict[Name, IdentityPolicyDocument] = Field(default_factory=dict)
    permissions_boundary: PolicyName | None = None
    #: CreateRole MaxSessionDuration: 3600 to 43200 seconds.
    max_session_seconds: Annotated[int, Field(ge=ROLE_SESSION_SECONDS, le=MAX_SESSION_SECONDS)] = ROLE_SESSION_SECONDS
    tags: Tags = Field(default_factory=dict)
    account: AccountName | None = None


#: S3 User Guide, "Bucket naming rules": 3-63 lowercase letters, digits, dots and hyphens.
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]


class S3Object(Strict):
    """An object seeded into a bucket with the bucket's default encryption (PutObject)."""

    key: Annotated[str, Field(min_length=1, max_length=1024)]
    body: str = ""


class PublicAccessBlock(Strict):
    """S3 Block Public Access settings, as PutPublicAccessBlock names them (S3 API Reference,
    "PublicAccessBlockConfiguration"; S3 User Guide, "Blocking public access to your Amazon S3
    storage"). A setting left out is off."""

    block_public_acls: StrictBool = Field(default=False, description="BlockPublicAcls: reject public ACLs on PUT")
    ignore_public_acls: StrictBool = Field(default=False, description="IgnorePublicAcls: ignore public ACLs")
    block_public_policy: StrictBool = Field(
        default=False, description="BlockPublicPolicy: PutBucketPolicy of a public policy is AccessDenied")
    restrict_public_buckets: StrictBool = Field(
        default=False, description="RestrictPublicBuckets: a public bucket policy grants only within the owner's account")


#: S3 User Guide, "Controlling ownership of objects and disabling ACLs for your bucket".
ObjectOwnership = Literal["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]


class Bucket(Strict):
    """An S3 bucket: default encryption (S3 User Guide, "Setting default server-side encryption
    behavior for Amazon S3 buckets"), S3 Bucket Key, bucket policy and seed objects."""

    encryption: EncryptionName | Annotated[str, Field(pattern=r"^key:[A-Za-z0-9_.+=,@-]+$")] = Field(
        default="aws-owned",
        description="aws-owned: SSE-S3 (AES256); aws-managed: SSE-KMS with aws/s3; key:NAME: SSE-KMS with a scenario key")
    bucket_key: StrictBool = Field(default=False, description="S3 Bucket Key for SSE-KMS (BucketKeyEnabled)")
    policy: ResourcePolicyDocument | None = Field(
        default=None, description="the bucket policy (PutBucketPolicy); bucket:NAME and object:NAME/KEY resolve to ARNs")
    objects: list[S3Object] = Field(default_factory=list)
    tags: Tags = Field(default_factory=dict)
    account: AccountName | None = None
    public_access_block: PublicAccessBlock | None = Field(
        default=None, description="S3 Block Public Access for the bucket (PutPublicAccessBlock); absent: none")
    object_ownership: ObjectOwnership | None = Field(
        default=None, description="Object Ownership (PutBucketOwnershipControls); BucketOwnerEnforced disables ACLs;"
        " absent: not managed")

    def key_name(self) -> str | None:
        """The scenario key this bucket encrypts with, if any."""
        return self.encryption.removeprefix("key:") if self.encryption.startswith("key:") else None
