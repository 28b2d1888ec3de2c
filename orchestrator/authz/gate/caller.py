"""The orchestrator's own identity as a principal: from what sts:GetCallerIdentity answers.

AWS STS API Reference, GetCallerIdentity (the ``Arn`` of an IAM user, an assumed-role session, a
federated user or the account root user); IAM User Guide, "AWS JSON policy elements: Principal"
(a policy names an IAM role, not its session, to cover a role's sessions: "Role sessions" and
"IAM roles") and "AWS global condition context keys" (``aws:PrincipalType`` is ``Account`` for
the root user, ``User`` for an IAM user, ``AssumedRole`` for a role session, ``FederatedUser``
for a federated user; ``aws:userid`` of the root user is the account id).

moto answers GetCallerIdentity for credentials that belong to no IAM user with
``arn:aws:sts::ACCOUNT:user/moto``, an STS form of an IAM user ARN that AWS never returns; it is
read as the IAM user ``moto``.
"""
from __future__ import annotations

import re

from orchestrator.authz.engine.request import Principal

__all__ = ["principal_arn", "caller_principal", "root_arn", "is_root"]

_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_STS_USER = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):user/(.+)$")
_ROOT = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):root$")
_IAM_USER = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):user/(?:.*/)?([^/]+)$")
_FEDERATED = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):federated-user/.+$")


def principal_arn(caller_arn: str) -> str:
    """The ARN a key policy can name for the caller (an assumed role becomes its role)."""
    if match := _ASSUMED_ROLE.match(caller_arn):
        return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}"
    if match := _STS_USER.match(caller_arn):
        return f"arn:{match[1]}:iam::{match[2]}:user/{match[3]}"
    return caller_arn


def is_root(arn: str) -> bool:
    """Whether ``arn`` is an account root user's ARN (``arn:aws:iam::ACCOUNT:root``)."""
    return _ROOT.match(arn) is not None


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def _account(arn: str, fallback: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else fallback


def caller_principal(caller_arn: str, account: str) -> Principal:
    """The authenticated principal behind a GetCallerIdentity ARN, typed as AWS types it."""
    arn = caller_arn if _ASSUMED_ROLE.match(caller_arn) else principal_arn(caller_arn)
    owner = _account(arn, account)
    if _ROOT.match(arn):
        return Principal(arn, owner, "Account", userid=owner)
    if _ASSUMED_ROLE.match(arn):
        return Principal(arn, owner, "AssumedRole")
    if _FEDERATED.match(arn):
        return Principal(arn, owner, "FederatedUser")
    user = _IAM_USER.match(arn)
    return Principal(arn, owner, "User", username=user[3] if user else None)
