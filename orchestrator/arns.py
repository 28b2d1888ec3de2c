"""Amazon Resource Names: every ARN orchestrate builds or reads apart is built or read here.

AWS General Reference, "Amazon Resource Names (ARNs)": ``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``,
where RESOURCE is ``TYPE/ID``, ``TYPE:ID`` or a bare id and may itself hold ``/`` and ``:`` (an S3
object key may hold both), so `parse_arn` splits at the first five colons only. Partitions are
``aws``, ``aws-cn``, ``aws-us-gov`` and the isolated ones (``aws-iso``, ...): every builder takes one.
IAM User Guide, "IAM identifiers": IAM ARNs carry the entity's path (``role/PATH/NAME``) and no
region; STS session ARNs (``assumed-role/ROLE/SESSION``) carry no path.

This module imports nothing of orchestrate's and nothing outside the standard library, so the
pure policy engine (authz/engine) can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Arn", "AWS_MANAGED_POLICY_PREFIX", "DEFAULT_PARTITION", "PARTITION_PATTERN", "account_of", "alias_arn",
    "assumed_role_arn", "aws_managed_policy_arn", "bucket_arn", "group_arn", "iam_arn", "is_arn", "is_root",
    "is_session", "key_arn", "key_id_of", "object_arn", "parse_arn", "policy_arn", "role_arn", "root_arn", "session_role_arn",
    "sts_arn", "table_arn", "user_arn", "with_account",
    "ROOT_ARN", "ROLE_ARN", "IAM_USER_ARN", "SESSION_ARN", "STS_USER_ARN", "FEDERATED_ARN", "CALLER_ARN",
    "MANAGED_POLICY_ARN", "KMS_KEY_ARN", "POLICY_ARN",
]

DEFAULT_PARTITION = "aws"
#: A partition as a regular expression: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ...
PARTITION_PATTERN = r"aws[a-z-]*"
#: Where AWS managed policies live: ``arn:aws:iam::aws:policy/NAME``.
AWS_MANAGED_POLICY_PREFIX = f"arn:{DEFAULT_PARTITION}:iam::aws:policy/"

#: Any text of six colon-separated fields is read as an ARN (a policy's ``arn:*:s3:::b`` too);
#: the recognisers below are strict where a decision depends on the form.
_ARN = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$", re.DOTALL)

# Recognisers for the ARNs policy evaluation types principals and resources by, compiled once
# (the engine runs them per statement); their groups are named.
_P = rf"arn:(?P<partition>{PARTITION_PATTERN})"
ROOT_ARN = re.compile(rf"^{_P}:iam::(?P<account>\d{{12}}):root$")
ROLE_ARN = re.compile(rf"^{_P}:iam::(?P<account>\d{{12}}):role/(?:.*/)?(?P<name>[^/]+)$")
IAM_USER_ARN = re.compile(rf"^{_P}:iam::(?P<account>\d{{12}}):user/(?:.*/)?(?P<name>[^/]+)$")
SESSION_ARN = re.compile(rf"^{_P}:sts::(?P<account>\d{{12}}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$")
#: moto's GetCallerIdentity answer for its own keys, an STS form of an IAM user AWS never returns.
STS_USER_ARN = re.compile(rf"^{_P}:sts::(?P<account>\d{{12}}):user/(?P<name>.+)$")
FEDERATED_ARN = re.compile(rf"^{_P}:sts::(?P<account>\d{{12}}):federated-user/.+$")
#: A caller's ARN, IAM or STS, read as its account and resource.
CALLER_ARN = re.compile(rf"^{_P}:(?:iam|sts)::(?P<account>\d{{12}}):(?P<resource>.+)$")
MANAGED_POLICY_ARN = re.compile(rf"^{_P}:iam::(?P<account>aws|\d{{12}}):policy/(?:.*/)?(?P<name>[^/]+)$")
KMS_KEY_ARN = re.compile(rf"^{_P}:kms:[^:]*:\d*:key/")
#: A service-linked role (IAM User Guide, "Create a service-linked role": path /aws-service-role/)
#: and a session of one (its name starts with AWSServiceRoleFor).
SERVICE_LINKED_ROLE_ARN = re.compile(rf"^{_P}:iam::(?P<account>\d{{12}}):role/aws-service-role/")
SERVICE_LINKED_SESSION_ARN = re.compile(rf"^{_P}:sts::(?P<account>\d{{12}}):assumed-role/AWSServiceRoleFor")
#: What a policy may name as a resource or principal: an ARN, wildcards allowed (the scenario
#: language accepts the three public partitions; IAM User Guide, "IAM JSON policy elements: Resource").
POLICY_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|\*):[a-z0-9*?-]*:[a-z0-9*?-]*:(\d{12}|\*|\?|)?:.+$")


@dataclass(frozen=True)
class Arn:
    """An ARN read apart; ``str(arn)`` puts it back together exactly."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        """``user``, ``role``, ``key``, ``table``, ``assumed-role``, ``root``...: the resource up to its
        first ``/`` or ``:``; an S3 ARN's resource has no type (``""``): it starts with the bucket."""
        if self.service == "s3":
            return ""
        return re.split(r"[/:]", self.resource, maxsplit=1)[0]

    @property
    def resource_id(self) -> str:
        """What follows the type (``PATH/NAME`` of an IAM entity, a key's id, ``ROLE/SESSION``);
        an S3 ARN's whole resource (``BUCKET`` or ``BUCKET/KEY``)."""
        if self.service == "s3":
            return self.resource
        return self.resource[len(self.resource_type) + 1:]

    @property
    def name(self) -> str:
        """The last segment of the resource (an IAM entity's name without its path)."""
        return self.resource.rpartition("/")[2]

    @property
    def is_root(self) -> bool:
        return self.service == "iam" and self.resource == "root"


def parse_arn(text: str) -> Arn | None:
    """``text`` read apart, or None when it is not an ARN (an account id, ``*``, a name)."""
    match = _ARN.match(text) if isinstance(text, str) else None
    return Arn(*match.groups()) if match else None


def is_arn(text: object) -> bool:
    return isinstance(text, str) and text.startswith("arn:")


def is_root(text: str) -> bool:
    """Whether ``text`` is an account root user's ARN (``arn:aws:iam::ACCOUNT:root``)."""
    arn = parse_arn(text)
    return arn is not None and arn.is_root and arn.account.isdigit() and len(arn.account) == 12


def account_of(text: str, fallback: str = "") -> str:
    """The account an ARN names, else ``fallback`` (no ARN, or an ARN without an account: S3)."""
    arn = parse_arn(text)
    return arn.account if arn is not None and arn.account else fallback


def with_account(text: str, account: str) -> str:
    """The same ARN in another account (the same identity in another of a scenario's accounts)."""
    arn = parse_arn(text)
    return str(Arn(arn.partition, arn.service, arn.region, account, arn.resource)) if arn else text


def is_session(text: str) -> bool:
    """Whether ``text`` is a role session's ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``)."""
    arn = parse_arn(text)
    return arn is not None and arn.resource_type == "assumed-role"


def key_id_of(text: str) -> str:
    """The key id of a key ARN; anything else (a key id, an alias) as it is (KMS API Reference,
    KeyId: "Key ID" or "Key ARN")."""
    arn = parse_arn(text)
    return arn.resource_id if arn is not None and arn.service == "kms" and arn.resource_type == "key" else text


def session_role_arn(text: str) -> str | None:
    """The role a session ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``) is of, with the
    path ``/`` (a session ARN does not carry the role's path); None for any other ARN."""
    arn = parse_arn(text)
    if arn is None or arn.service != "sts" or arn.resource_type != "assumed-role" or arn.resource_id.count("/") < 1:
        return None
    return role_arn(arn.account, arn.resource_id.split("/", 1)[0], partition=arn.partition)


# Builders. Their arguments are put in as they are: CloudFormation's ${AWS::AccountId} and
# Terraform's interpolations pass through, as do IAM wildcards (an account of ``*``).

def iam_arn(account: str, resource: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:iam::{account}:{resource}"


def root_arn(account: str, partition: str = DEFAULT_PARTITION) -> str:
    return iam_arn(account, "root", partition)


def user_arn(account: str, name: str, path: str = "/", partition: str = DEFAULT_PARTITION) -> str:
    return iam_arn(account, f"user{path}{name}", partition)


def role_arn(account: str, name: str, path: str = "/", partition: str = DEFAULT_PARTITION) -> str:
    return iam_arn(account, f"role{path}{name}", partition)


def group_arn(account: str, name: str, path: str = "/", partition: str = DEFAULT_PARTITION) -> str:
    return iam_arn(account, f"group{path}{name}", partition)


def policy_arn(account: str, name: str, path: str = "/", partition: str = DEFAULT_PARTITION) -> str:
    return iam_arn(account, f"policy{path}{name}", partition)


def aws_managed_policy_arn(name: str, partition: str = DEFAULT_PARTITION) -> str:
    """An AWS managed policy (``arn:aws:iam::aws:policy/NAME``; NAME may carry a path)."""
    return policy_arn("aws", name, partition=partition)


def sts_arn(account: str, resource: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:sts::{account}:{resource}"


def assumed_role_arn(account: str, role: str, session: str, partition: str = DEFAULT_PARTITION) -> str:
    """A role session's ARN: the role's name without its path, then the session's name."""
    return sts_arn(account, f"assumed-role/{role}/{session}", partition)


def key_arn(region: str, account: str, key_id: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, alias: str, partition: str = DEFAULT_PARTITION) -> str:
    """``alias`` with or without its ``alias/`` prefix."""
    name = alias if alias.startswith("alias/") else f"alias/{alias}"
    return f"arn:{partition}:kms:{region}:{account}:{name}"


def table_arn(region: str, account: str, name: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"


def organizations_arn(management_account: str, resource: str, partition: str = DEFAULT_PARTITION) -> str:
    """An AWS Organizations entity (``organization/o-...``, ``ou/o-.../ou-...``, ``handshake/...``):
    global, and under the management account (Service Authorization Reference, "AWS Organizations")."""
    return f"arn:{partition}:organizations::{management_account}:{resource}"


def bucket_arn(bucket: str, partition: str = DEFAULT_PARTITION) -> str:
    """S3 bucket ARNs carry neither region nor account."""
    return f"arn:{partition}:s3:::{bucket}"


def object_arn(bucket: str, key: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"{bucket_arn(bucket, partition)}/{key}"
