"""The scenario document: metadata, resources, ordered policy states and their expectations."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator,
                      model_validator)

from orchestrator.constants import DEFAULT_REGION, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS, ROLE_SESSION_SECONDS
from orchestrator.model.organization import Organization, VpcEndpointSpec
from orchestrator.model.policy import STRICT, IdentityPolicyDocument
from orchestrator.model.resources import (Bucket, BucketName, Group, Key, ManagedPolicy, Name, PublicAccessBlock, Role, Table,
                                          User)

# The API-level actions an expectation can exercise, and the kind of entity each acts on.
EXPECTATION_ACTIONS: dict[str, str] = {
    "dynamodb:GetItem": "table",
    "dynamodb:PutItem": "table",
    "dynamodb:UpdateItem": "table",
    "dynamodb:DeleteItem": "table",
    "dynamodb:Query": "table",
    "dynamodb:Scan": "table",
    "dynamodb:DescribeTable": "table",
    "dynamodb:CreateTable": "table",
    "dynamodb:BatchGetItem": "table",
    "kms:Decrypt": "key",
    "kms:Encrypt": "key",
    "kms:GenerateDataKey": "key",
    "kms:DescribeKey": "key",
    "kms:ReEncrypt": "key",
    "kms:CreateGrant": "key",
    "kms:Sign": "key",
    "kms:Verify": "key",
    "kms:GetPublicKey": "key",
    "kms:GenerateMac": "key",
    "kms:VerifyMac": "key",
    "kms:ScheduleKeyDeletion": "key",
    "kms:CancelKeyDeletion": "key",
    "kms:PutKeyPolicy": "key",
    "kms:GetKeyPolicy": "key",
    "kms:DisableKey": "key",
    "kms:EnableKey": "key",
    "kms:TagResource": "key",
    "kms:ListGrants": "key",
    "kms:RevokeGrant": "key",
    "kms:RetireGrant": "key",
    "sts:AssumeRole": "role",
    "s3:GetObject": "object",
    "s3:PutObject": "object",
    "s3:DeleteObject": "object",
    "s3:HeadObject": "object",
    "s3:ListBucket": "bucket",
}
# Actions whose call names one item, so the expectation must give its key.
ITEM_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                          "dynamodb:BatchGetItem"})
#: KMS Developer Guide, "Default key policy" (the key administrators' actions): the management
#: actions an expectation proves on `key:NAME`; an allowed one that changes the key is undone by
#: orchestrate at once (prove/key_management.py).
KEY_MANAGEMENT_ACTIONS = frozenset({
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DisableKey",
    "kms:EnableKey", "kms:TagResource", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant",
})
#: KMS Developer Guide, "Using aliases to control access to KMS keys" (kms:RequestAlias): the
#: operations whose KeyId may be an alias name, so `resource: alias:NAME` calls them through it.
ALIAS_ACTIONS = frozenset({
    "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:Sign", "kms:Verify",
    "kms:GetPublicKey", "kms:GenerateMac", "kms:VerifyMac",
})
#: The layer a denial names; `scp`, `rcp` and `vpc-endpoint` are the organization's guardrails and the
#: endpoint policy (authz/engine/guardrails.py).
Layer = Literal[
    "identity-policy", "key-policy", "explicit-deny", "key-state", "resource-policy",
    "permissions-boundary", "session-policy", "grant", "trust-policy", "block-public-access",
    "scp", "rcp", "vpc-endpoint",
]
Action = Literal[
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:BatchGetItem", "dynamodb:CreateTable",
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ReEncrypt",
    "kms:CreateGrant", "kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:GenerateMac", "kms:VerifyMac",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DisableKey",
    "kms:EnableKey", "kms:TagResource", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant",
    "sts:AssumeRole",
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:HeadObject", "s3:ListBucket",
]
# KMS API Reference, "Encryption context": the operations that take an EncryptionContext.
CONTEXT_ACTIONS = frozenset({"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey"})
# KMS API Reference, Encrypt/Decrypt (EncryptionAlgorithm), Sign/Verify (SigningAlgorithm),
# GenerateMac/VerifyMac (MacAlgorithm): the operations that name an algorithm.
ALGORITHM_ACTIONS = frozenset({"kms:Encrypt", "kms:Decrypt", "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac"})
#: Actions an expectation may prove offline, with the public key orchestrate fetched (no KMS call as `as`).
OFFLINE_ACTIONS = frozenset({"kms:Verify"})
Algorithm = Literal[
    "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE",
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "SM2DSA",
    "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512",
]


def _ip_address(value: str) -> str:
    """An IPv4 or IPv6 address, in its canonical form (aws:SourceIp is compared as one)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"not an IPv4 or IPv6 address: {value!r}") from None


#: `alias:NAME` names the key whose `aliases` hold `alias/NAME` (called through that alias).
EntityRef = Annotated[str, Field(pattern=r"^((table|key|role|bucket):[A-Za-z0-9_.+=,@-]+|alias:[A-Za-z0-9/_-]{1,250}|object:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S{1,1024})$")]
#: `as`: a scenario user by name, or `role:NAME` (a session of that role, via sts:AssumeRole).
PrincipalRef = Annotated[str, Field(pattern=r"^(role:)?[A-Za-z0-9_.+=,@-]{1,64}$")]


# AWS STS API Reference, "AssumeRole": RoleSessionName and SourceIdentity are 2-64 of [\w+=,.@-];
# ExternalId 2-1224 of [\w+=,.@:/-]; Tags at most 50, a key 1-128 and a value 0-256 characters;
# PolicyArns at most 10; DurationSeconds 900 to 43200 (the role's MaxSessionDuration), and at most
# 3600 for a chained session (IAM User Guide, "Role chaining": "limits your AWS CLI or AWS API role
# session to a maximum of one hour").
SessionName = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_+=,.@-]+$")]
ExternalId = Annotated[str, Field(min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9_+=,.@:/-]+$")]
TagKey = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_ +=,.@:/-]+$")]
TagValue = Annotated[str, Field(max_length=256, pattern=r"^[A-Za-z0-9_ +=,.@:/-]*$")]
ManagedPolicyRef = Annotated[str, Field(pattern=r"^(policy:[A-Za-z0-9_.+=,@-]{1,64}|[A-Za-z0-9_.+=,@/-]{1,128})$")]
#: `via`: a scenario user, or `role:NAME` (role chaining: a session of that role assumes `as`).
ViaRef = Annotated[str, Field(pattern=r"^(role:)?[A-Za-z0-9_.+=,@-]{1,64}$")]
CHAINED_MAX_SECONDS = ROLE_SESSION_SECONDS
#: The fields that shape the session of `as: role:NAME` (AssumeRole's parameters).
SESSION_FIELDS = ("session_name", "session_policy", "session_policy_arns", "session_tags", "transitive_tags",
                  "external_id", "source_identity", "duration_seconds")


class Strict(BaseModel):
    model_config = STRICT


class Settle(Strict):
    """How long an outcome may take to settle on real AWS (the embedded backend never waits)."""

    timeout_seconds: Annotated[float, Field(ge=0, le=3600)] = 120
    consecutive: Annotated[int, Field(ge=1, le=20)] = 3


class Expectation(Strict):
    """`as` a principal, an action on a resource, and the outcome expected."""

    principal: PrincipalRef = Field(alias="as")
    #: The scenario user whose credentials assume the role of `as: role:NAME` (default: orchestrate's own identity).
    via: ViaRef | None = Field(None, description="for `as: role:NAME`: the scenario user that calls sts:AssumeRole,"
                               " or `role:OTHER` (role chaining: a session of OTHER, assumed by orchestrate, calls it;"
                               " one hop); default: orchestrate's own identity")
    session_name: SessionName | None = Field(
        None, description="for `as: role:NAME`: the RoleSessionName (default: one orchestrate makes up); a policy"
        " names the session `session:ROLE/NAME`")
    session_policy: IdentityPolicyDocument | None = Field(
        None, description="for `as: role:NAME`: an inline session policy (AssumeRole's Policy): the session may do"
        " only what both it and the role's identity-based policies allow (IAM User Guide, \"Session policies\")")
    session_policy_arns: Annotated[list[ManagedPolicyRef], Field(max_length=10)] | None = Field(
        None, description="for `as: role:NAME`: managed session policies (AssumeRole's PolicyArns): `policy:NAME`"
        " or an AWS managed policy name")
    session_tags: Annotated[dict[TagKey, TagValue], Field(max_length=50)] | None = Field(
        None, description="for `as: role:NAME`: session tags (AssumeRole's Tags); they override role tags of the"
        " same key in aws:PrincipalTag, and the trust policy must allow sts:TagSession (IAM User Guide,"
        " \"Passing session tags in AWS STS\")")
    transitive_tags: list[TagKey] | None = Field(
        None, description="for `as: role:NAME`: keys of session_tags that persist through role chaining"
        " (AssumeRole's TransitiveTagKeys)")
    external_id: ExternalId | None = Field(
        None, description="for `as: role:NAME`: AssumeRole's ExternalId, the trust policy's sts:ExternalId")
    source_identity: SessionName | None = Field(
        None, description="for `as: role:NAME`: AssumeRole's SourceIdentity (aws:SourceIdentity of the session's"
        " requests); the trust policy must allow sts:SetSourceIdentity")
    duration_seconds: Annotated[int, Field(ge=MIN_SESSION_SECONDS, le=MAX_SESSION_SECONDS)] | None = Field(
        None, description="for `as: role:NAME`: AssumeRole's DurationSeconds (default 900; at most 3600 when"
        " chained `via: role:OTHER`)")
    action: Action
    resource: EntityRef
    key: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    #: KMS API Reference, "Encryption context": the same context must be given to decrypt.
    encryption_context: dict[Annotated[str, Field(min_length=1)], str] | None = Field(
        None, description="EncryptionContext of a direct kms:Encrypt, Decrypt, ReEncrypt or GenerateDataKey call")
    #: What the gate sees as aws:SourceIp / aws:SecureTransport (embedded and serve only).
    source_ip: Annotated[str, AfterValidator(_ip_address),
                         WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})] | None = Field(
        None, description="aws:SourceIp the gate sees for this call (embedded backend and serve only)")
    secure_transport: bool | None = Field(
        None, description="aws:SecureTransport the gate sees for this call (embedded backend and serve only)")
    #: KMS API Reference: EncryptionAlgorithm, SigningAlgorithm or MacAlgorithm of the call.
    algorithm: Algorithm | None = Field(
        None, description="EncryptionAlgorithm (kms:Encrypt, Decrypt), SigningAlgorithm (kms:Sign, Verify) or"
        " MacAlgorithm (kms:GenerateMac, VerifyMac); checked against the key spec (KMS Developer Guide,"
        " \"Key spec reference\"); default: the key spec's first")
    offline: bool = Field(
        False, description="kms:Verify only: `as` verifies a signature orchestrate made, offline, with the public"
        " key orchestrate fetched (GetPublicKey as its own identity); no KMS call is made as `as`, so no KMS"
        " permission is needed (KMS Developer Guide, \"Download public key\")")
    retiring: bool | None = Field(
        None, description="kms:RetireGrant only: the throwaway grant orchestrate creates names `as` its retiring"
        " principal (true, the default) or not (false; `as` is its grantee either way, without the RetireGrant"
        " operation). The grant decides who may retire it, not the key policy (KMS Developer Guide, \"Retiring"
        " and revoking grants\")")
    vpc_endpoint: Name | None = Field(
        None, description="a name under `vpc_endpoints`: the request goes through that endpoint, whose policy must"
        " allow it too; aws:SourceVpce and aws:SourceVpc are set and aws:SourceIp is not (IAM User Guide, \"AWS global"
        " condition context keys\"); its service is the action's")
    expect: Literal["allowed", "denied"]
    error: Annotated[str, Field(pattern=r"^[A-Za-z.]+$")] | None = None
    layer: Layer | None = None
    description: str | None = None
    settle: Settle | None = None

    @property
    def role(self) -> str | None:
        """The role whose session this expectation acts as (`as: role:NAME`), else None."""
        return self.principal.removeprefix("role:") if self.principal.startswith("role:") else None

    @property
    def shapes_session(self) -> bool:
        """The session is asked for more than the role: session fields, or chaining."""
        return self.chained_from is not None or any(getattr(self, name) is not None for name in SESSION_FIELDS)

    @property
    def chained_from(self) -> str | None:
        """The role whose session assumes `as` (`via: role:OTHER`), else None."""
        return self.via.removeprefix("role:") if self.via is not None and self.via.startswith("role:") else None

    @field_validator("via")
    @classmethod
    def _via_needs_role(cls, value: str | None, info: ValidationInfo) -> str | None:
        principal = info.data.get("principal")
        if value is not None and principal is not None and not principal.startswith("role:"):
            raise ValueError(f"via applies only to `as: role:NAME` (a user assuming the role), not to `as: {principal}`")
        if value is not None and value == principal:
            raise ValueError(f"via {value} is the role itself: a role chains to another role")
        return value

    @field_validator(*SESSION_FIELDS)
    @classmethod
    def _session_needs_role(cls, value: Any, info: ValidationInfo) -> Any:
        principal = info.data.get("principal")
        if value is not None and principal is not None and not principal.startswith("role:"):
            raise ValueError(f"{info.field_name} shapes a role session: it applies only to `as: role:NAME`,"
                             f" not to `as: {principal}`")
        return value

    @field_validator("transitive_tags")
    @classmethod
    def _transitive_are_session_tags(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        tags = info.data.get("session_tags") or {}
        unknown = [key for key in value or [] if key not in tags]
        if unknown:
            raise ValueError(f"transitive tags must be keys of session_tags: {', '.join(unknown)}"
                             " (AWS STS API Reference, \"AssumeRole\": TransitiveTagKeys)")
        return value

    @field_validator("session_tags")
    @classmethod
    def _tag_keys_once(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        lowered = [key.lower() for key in value or {}]
        twice = sorted({key for key in lowered if lowered.count(key) > 1})
        if twice:
            raise ValueError(f"session tag keys differ only in case: {', '.join(twice)} (AWS compares tag keys"
                             " without case: IAM User Guide, \"Passing session tags in AWS STS\")")
        return value

    @field_validator("duration_seconds")
    @classmethod
    def _chained_hour(cls, value: int | None, info: ValidationInfo) -> int | None:
        via = info.data.get("via")
        if value is not None and value > CHAINED_MAX_SECONDS and via is not None and via.startswith("role:"):
            raise ValueError(f"a chained session (via {via}) lasts at most {CHAINED_MAX_SECONDS} seconds (IAM User"
                             f" Guide, \"Role chaining\"), not {value}")
        return value

    @field_validator("algorithm")
    @classmethod
    def _algorithm_actions(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")
        if value is not None and action is not None and action not in ALGORITHM_ACTIONS:
            raise ValueError(f"algorithm applies only to {', '.join(sorted(ALGORITHM_ACTIONS))}, not {action}")
        return value

    @field_validator("offline")
    @classmethod
    def _offline_actions(cls, value: bool, info: ValidationInfo) -> bool:
        action = info.data.get("action")
        if value and action is not None and action not in OFFLINE_ACTIONS:
            raise ValueError(f"offline applies only to {', '.join(sorted(OFFLINE_ACTIONS))}, not {action}")
        return value

    @field_validator("retiring")
    @classmethod
    def _retiring_action(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        action = info.data.get("action")
        if value is not None and action is not None and action != "kms:RetireGrant":
            raise ValueError(f"retiring applies only to kms:RetireGrant, not {action}")
        return value

    @field_validator("encryption_context")
    @classmethod
    def _kms_only(cls, value: dict[str, str] | None, info: ValidationInfo) -> dict[str, str] | None:
        action = info.data.get("action")
        if value is not None and action is not None and action not in CONTEXT_ACTIONS:
            raise ValueError(f"encryption_context applies only to {', '.join(sorted(CONTEXT_ACTIONS))}, not {action}")
        return value


#: Who an `only` list may name: a scenario user, a role (any session of it), one session of a role,
#: anyone in an account (`account:home` or a name under `accounts`), or orchestrate's own identity.
GuaranteePrincipal = Annotated[str, Field(pattern=r"^((user|role|account):[A-Za-z0-9_.+=,@-]{1,64}|session:[A-Za-z0-9_.+=,@-]{1,64}/[A-Za-z0-9_+=,.@-]{2,64}|orchestrate)$")]
#: Whom `no_access_from` shuts out: every principal outside the resource's account, outside the
#: scenario's organization, or anyone at all, anonymous callers included (`public`).
Outsiders = Literal["outside-account", "outside-organization", "public"]


def _present(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


class Guarantee(Strict):
    """A claim about every principal, not only the named ones: of all callers (every account, user,
    role and session that exists or could, anonymous), only those of `only` may make `actions` on
    `resource`, or none of those `no_access_from` names may. Decided over every principal by the
    symbolic engine (orchestrator/whoelse/, issue 24): proved, violated with a witness, or unknown."""

    model_config = ConfigDict(**STRICT, json_schema_extra={"oneOf": [_present("only"), _present("no_access_from")]})

    resource: EntityRef
    #: Listed once each: the loader refuses a repeat at its index (loader/guarantee_checks.py).
    actions: Annotated[list[Action], Field(min_length=1)]
    only: list[GuaranteePrincipal] | None = Field(
        None, description="the only principals that may make the actions: `user:NAME`, `role:NAME` (any session of"
        " it), `session:ROLE/NAME`, `account:NAME` or `account:home` (anyone in that account), `orchestrate`;"
        " `[]`: nobody")
    no_access_from: Outsiders | None = Field(
        None, description="no principal outside the resource's account (`outside-account`), outside the"
        " scenario's organization (`outside-organization`), or anyone at all, anonymous included (`public`)")
    expect: Literal["proved", "violated"] = Field(
        "proved", description="`proved` (the default): the guarantee must hold, and a violation fails the run;"
        " `violated`: the scenario shows a violation on purpose (its witness is the finding), and a proof fails it")
    description: str | None = None

    def words(self) -> str:
        """`only user:admin, role:reader may dynamodb:GetItem, dynamodb:Query on table:orders`."""
        actions = ", ".join(self.actions)
        if self.only is not None:
            return f"only {', '.join(self.only) or 'nobody'} may {actions} on {self.resource}"
        return f"no access from {self.no_access_from}: {actions} on {self.resource}"

    @model_validator(mode="after")
    def _one_form(self) -> Guarantee:
        if (self.only is None) == (self.no_access_from is None):
            raise ValueError("a guarantee gives exactly one of `only` (the principals that may) and `no_access_from`"
                             " (outside-account, outside-organization or public)")
        return self


class State(Strict):
    """A policy state: a JSON Merge Patch (RFC 7386) over the base document, then expectations and
    guarantees, both the state's own (a later state does not inherit them).

    Inside a policy document, `Statement` may be patched as a mapping from Sid to statement
    (null removes the statement with that Sid); a list replaces the statements whole.
    """

    name: Name
    description: str | None = None
    patch: dict[str, Any] = Field(default_factory=dict)
    expectations: list[Expectation] = Field(default_factory=list)
    guarantees: list[Guarantee] = Field(
        default_factory=list, description="claims over every principal, in this state (a patch does not carry them"
        " over: each state lists its own, as its expectations); not decided by this version")


#: An account by its scenario name: `home` (the scenario's own) or a name under `accounts`.
AccountKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ACCOUNT_BLOCK_DESCRIPTION = (
    "the account-level S3 Block Public Access of `home` or a named account (S3 Control PutPublicAccessBlock with"
    " AccountId); S3 applies the most restrictive combination of it and each bucket's setting (S3 User Guide,"
    " \"Blocking public access to your Amazon S3 storage\"); absent: not managed")
ORGANIZATION_DESCRIPTION = (
    "the AWS Organizations organization around the scenario's accounts: the management account, units, and the"
    " SCPs and RCPs attached to the root, units and accounts (FullAWSAccess and RCPFullAWSAccess attached by"
    " default); absent: no organization")
ENDPOINTS_DESCRIPTION = (
    "VPC endpoints by name, for expectations' `vpc_endpoint`: the service each fronts, its VPC and its endpoint"
    " policy (absent: full access)")


class Scenario(Strict):
    """A scenario file (`scenarios/*.yaml`)."""

    name: Name
    description: str = ""
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = DEFAULT_REGION
    account: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    #: Other AWS accounts by name; the scenario's own is `home` (its id: `account`, or the backend's).
    accounts: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")], Annotated[str, Field(pattern=r"^\d{12}$")]] = Field(
        default_factory=dict, description="other AWS accounts by name (12-digit ids); `home` is the scenario's own")
    settle: Settle | None = None
    policies: dict[Name, ManagedPolicy] = Field(default_factory=dict)
    groups: dict[Name, Group] = Field(default_factory=dict)
    users: dict[Name, User] = Field(default_factory=dict)
    keys: dict[Name, Key] = Field(default_factory=dict)
    tables: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")], Table] = Field(default_factory=dict)
    roles: dict[Name, Role] = Field(default_factory=dict)
    buckets: dict[BucketName, Bucket] = Field(default_factory=dict)
    account_public_access_block: dict[AccountKey, PublicAccessBlock] = Field(
        default_factory=dict, description=ACCOUNT_BLOCK_DESCRIPTION)
    organization: Organization | None = Field(None, description=ORGANIZATION_DESCRIPTION)
    vpc_endpoints: dict[Name, VpcEndpointSpec] = Field(default_factory=dict, description=ENDPOINTS_DESCRIPTION)
    states: Annotated[list[State], Field(min_length=1)]


class DesiredState(Strict):
    """The resources a scenario wants in one policy state (the base document with that state's patch)."""

    policies: dict[str, ManagedPolicy] = Field(default_factory=dict)
    groups: dict[str, Group] = Field(default_factory=dict)
    users: dict[str, User] = Field(default_factory=dict)
    keys: dict[str, Key] = Field(default_factory=dict)
    tables: dict[str, Table] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    buckets: dict[str, Bucket] = Field(default_factory=dict)
    account_public_access_block: dict[str, PublicAccessBlock] = Field(default_factory=dict)
    organization: Organization | None = None
    vpc_endpoints: dict[str, VpcEndpointSpec] = Field(default_factory=dict)
    #: The scenario's other accounts (name -> id), the same in every state.
    accounts: dict[str, str] = Field(default_factory=dict)

    def account_of(self, section: str, name: str) -> str | None:
        """The account name an entity declares (None: home)."""
        entity = getattr(self, section, {}).get(name)
        account = getattr(entity, "account", None)
        return None if account in (None, "home") else account
