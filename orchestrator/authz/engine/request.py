"""Request model for the authorization engine.

Follows the IAM User Guide, "Policy evaluation logic — the request context":
a request is a principal, an action, a resource and a set of condition
context keys.  The engine derives the principal-based global condition keys
(``aws:username``, ``aws:userid``, ``aws:PrincipalArn``,
``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:PrincipalTag/*``)
itself, see :mod:`orchestrator.authz.engine.context`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

__all__ = ["Principal", "Request", "ANONYMOUS", "ANONYMOUS_TYPE", "SERVICE_TYPE", "anonymous_principal",
           "service_principal"]

#: How a scenario, and the gate, name the caller of an unsigned request (IAM User Guide, "AWS JSON
#: policy elements: Principal", anonymous users: only a grant to ``"*"`` reaches it).
ANONYMOUS = "anonymous"
ANONYMOUS_TYPE = "Anonymous"
#: An AWS service calling on its own behalf (IAM User Guide, "AWS JSON policy elements: Principal", AWS
#: service principals): named by ``{"Service": "NAME"}`` or ``"*"`` in a resource-based policy, no
#: identity-based policies, in no account.
SERVICE_TYPE = "Service"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller (IAM User Guide: "Specifying a principal")."""

    arn: str
    account: str
    type: str = "User"
    username: str | None = None
    userid: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: For a role session (type AssumedRole): the role's ARN, path included, when known.
    role_arn: str | None = None
    #: For a role session: the source identity set when it was assumed (``aws:SourceIdentity``).
    source_identity: str | None = None


@dataclass(frozen=True)
class Request:
    """One authorization question: may ``principal`` do ``action`` on ``resource``?

    ``context`` holds condition keys as given (any case); values are strings.
    Keys absent from ``context`` are absent (missing-key semantics).
    """

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)


def anonymous_principal() -> Principal:
    """The caller of an unsigned request: no account, no identity-based policies; only a
    resource-based policy statement whose Principal is ``"*"`` (or ``{"AWS": "*"}``) can allow it."""
    return Principal(ANONYMOUS, "", ANONYMOUS_TYPE)


def service_principal(name: str) -> Principal:
    """An AWS service principal such as ``cloudtrail.amazonaws.com`` (its ``arn`` is that name)."""
    return Principal(name, "", SERVICE_TYPE)
