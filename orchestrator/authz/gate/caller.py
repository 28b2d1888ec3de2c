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

from orchestrator import arns
from orchestrator.authz.engine.request import Principal

__all__ = ["principal_arn", "caller_principal", "root_arn", "is_root"]

_ASSUMED_ROLE = arns.SESSION_ARN
_ROOT = arns.ROOT_ARN
_IAM_USER = arns.IAM_USER_ARN
_FEDERATED = arns.FEDERATED_ARN


def principal_arn(caller_arn: str) -> str:
    """The ARN a key policy can name for the caller (an assumed role becomes its role)."""
    if role := arns.session_role_arn(caller_arn):
        return role
    if match := arns.STS_USER_ARN.match(caller_arn):
        return arns.user_arn(match["account"], match["name"], partition=match["partition"])
    return caller_arn


def is_root(arn: str) -> bool:
    """Whether ``arn`` is an account root user's ARN (``arn:aws:iam::ACCOUNT:root``)."""
    return arns.is_root(arn)


root_arn = arns.root_arn


def _account(arn: str, fallback: str) -> str:
    account = arns.account_of(arn)
    return account if account.isdigit() else fallback


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
    return Principal(arn, owner, "User", username=user["name"] if user else None)
