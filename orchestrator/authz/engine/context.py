"""Request-context lookup with AWS missing-key semantics.

Follows the IAM User Guide, "AWS global condition context keys": condition
key names are case-insensitive; the principal keys (``aws:username``,
``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:PrincipalTag/<key>``) are derived from the
authenticated principal unless the caller supplies them explicitly, and
``aws:username`` is present only for IAM users.
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator import arns
from orchestrator.authz.engine.request import Principal, Request

__all__ = ["RequestContext", "normalise_values"]

Values = tuple[str, ...]

_TAG_PREFIX = "aws:principaltag/"
_EC_PREFIX = "kms:encryptioncontext:"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def normalise_values(value: Any) -> Values:
    """Return a context value as a tuple of strings (a bare string is one value)."""
    if isinstance(value, str):
        return (value,)
    # The gate's own context is already tuples of str: returned as is (the same values).
    if type(value) is tuple and all(type(item) is str for item in value):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_text(item) for item in value)
    return (_text(value),)


def _username(principal: Principal) -> str | None:
    if principal.username is not None:
        return principal.username
    if principal.type != "User" or ":user/" not in principal.arn:
        return None
    return principal.arn.rsplit("/", 1)[-1]


def _tag(principal: Principal, wanted: str) -> Values | None:
    for key, value in principal.tags.items():
        if key.lower() == wanted:
            return (value,)
    return None




def principal_arn_key(principal: Principal) -> str:
    """``aws:PrincipalArn``: IAM User Guide, "AWS global condition context keys": for a role
    session it is the role's ARN ("For IAM roles, the request context returns the ARN of the
    role, not the ARN of the user that assumed the role"); the session ARN is never returned.
    Where the role's path is not known it is taken as ``/``."""
    if principal.type != "AssumedRole":
        return principal.arn
    if principal.role_arn:
        return principal.role_arn
    return arns.session_role_arn(principal.arn) or principal.arn


def derive_principal_key(principal: Principal, key: str) -> Values | None:
    """Value of a principal-derived global key (``key`` lower-case), or None (an anonymous request
    carries none of them)."""
    if principal.type == "Anonymous":
        return None
    if principal.type == "Service":  # "aws:PrincipalIsAWSService", "aws:PrincipalServiceName"
        return _service_key(principal, key)
    if key == "aws:principalarn":
        return (principal_arn_key(principal),)
    if key == "aws:principalaccount":
        return (principal.account,)
    if key == "aws:principaltype":
        return (principal.type,)
    if key == "aws:username":
        name = _username(principal)
        return None if name is None else (name,)
    if key == "aws:userid":
        if principal.userid is not None:
            return (principal.userid,)
        return (principal.account,) if principal.type == "Account" else None
    if key.startswith(_TAG_PREFIX):
        return _tag(principal, key[len(_TAG_PREFIX):])
    if key == "aws:principalisawsservice":  # present in every signed request: false for an IAM caller
        return ("false",)
    if key == "aws:sourceidentity" and principal.source_identity:
        return (principal.source_identity,)
    return None


def _service_key(principal: Principal, key: str) -> Values | None:
    """An AWS service principal's keys (IAM User Guide, "AWS global condition context keys"):
    aws:PrincipalIsAWSService is true and aws:PrincipalServiceName its name; it has no ARN,
    account or tags."""
    if key == "aws:principalisawsservice":
        return ("true",)
    if key == "aws:principalservicename":
        return (principal.arn,)
    return None


class RequestContext:
    """Case-insensitive view of a request's condition keys."""

    __slots__ = ("_values", "principal", "request", "reads")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.principal = request.principal
        self._values: dict[str, Values] | None = None
        #: When a list: every lookup and its answer, in order (key None: the encryption context),
        #: so a decision can be reused for a request whose lookups answer alike (evaluate.py).
        self.reads: list[tuple[str | None, Any]] | None = None

    @property
    def values(self) -> dict[str, Values]:
        """The keys lower-cased, the values normalised: made on the first lookup, since most
        evaluations match no statement with a condition and never look a key up."""
        if self._values is None:
            self._values = {key.lower(): normalise_values(value) for key, value in self.request.context.items()}
        return self._values

    def get(self, key: str) -> Values | None:
        """Values of ``key`` (already lower-case); None when absent."""
        found = self.lookup(key)
        if self.reads is not None:
            self.reads.append((key, found))
        return found

    def lookup(self, key: str) -> Values | None:
        """:meth:`get`, unrecorded."""
        found = self.values.get(key)
        if found is not None:
            return found
        if key.startswith("aws:"):
            return derive_principal_key(self.principal, key)
        return None

    def encryption_context(self) -> Mapping[str, str]:
        """KMS encryption context rebuilt from ``kms:EncryptionContext:<k>`` keys."""
        found = self.rebuilt_encryption_context()
        if self.reads is not None:
            self.reads.append((None, tuple(found.items())))
        return found

    def rebuilt_encryption_context(self) -> dict[str, str]:
        """:meth:`encryption_context`, unrecorded."""
        found: dict[str, str] = {}
        for key, value in self.request.context.items():
            if key.lower().startswith(_EC_PREFIX):
                values = normalise_values(value)
                if values:
                    found[key[len(_EC_PREFIX):]] = values[0]
        return found
