"""Whether a bucket policy is *public*, as Amazon S3 decides it.

Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage" > "The meaning of
'public'" (and the S3 API Reference, "PublicAccessBlockConfiguration"): S3 begins by assuming a
bucket policy is public; it is non-public only when every statement that grants (``Allow``) is
bounded to fixed values: it names specific principals (no ``"*"`` in ``Principal``, no
``NotPrincipal``), or it has a condition that pins one of these keys to fixed values (no
wildcard, no policy variable, a positive operator, not ``...IfExists``):

``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``aws:PrincipalOrgID``, ``aws:SourceAccount``,
``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceOwner``, ``aws:userid``
(outside the pattern ``AROLEID:*``), ``s3:DataAccessPointArn``, ``s3:DataAccessPointAccount``,
or ``aws:SourceIp`` with CIDR blocks no broader than ``/8`` (IPv4) or ``/32`` (IPv6) — "very
broad IP ranges (for example, 0.0.0.0/1) are evaluated as public" — RFC 1918 private ranges
always counting as fixed.

Deny statements never make a policy public. :func:`is_public` is pure (no moto, no boto3).
"""
from __future__ import annotations

import ipaddress
import json
from typing import Any, Mapping

__all__ = ["is_public", "public_statements", "FIXED_KEYS"]

#: Condition keys whose fixed values make a grant non-public (lower case).
FIXED_KEYS = frozenset({
    "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:sourceaccount",
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:userid",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
})
#: Operators that bound a key to the values given (a wildcard in the value is checked apart).
_FIXED_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_IP_OPERATORS = frozenset({"ipaddress"})
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return [str(value)]


def _fixed_value(value: str) -> bool:
    """No wildcard and no policy variable (an ``aws:userid`` of ``AROLEID:*`` is a wildcard too)."""
    return not ("*" in value or "?" in value or "${" in value)


def _fixed_cidr(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    if isinstance(network, ipaddress.IPv4Network):
        return network.prefixlen >= 8 or any(network.subnet_of(private) for private in _PRIVATE)
    return network.prefixlen >= 32


def _bounded(condition: Mapping[str, Any]) -> bool:
    """Whether a Condition element pins one of the keys that make a grant non-public."""
    for operator, pairs in condition.items():
        name = str(operator).lower()
        if not isinstance(pairs, Mapping) or name.endswith("ifexists"):
            continue
        name = name.split(":")[-1]  # ForAllValues:/ForAnyValue: on single-valued keys read alike
        for key, values in pairs.items():
            key = str(key).lower()
            found = _strings(values)
            if not found:
                continue
            if name in _IP_OPERATORS and key == "aws:sourceip" and all(_fixed_cidr(v) for v in found):
                return True
            if name in _FIXED_OPERATORS and key in FIXED_KEYS and all(_fixed_value(v) for v in found):
                return True
    return False


def _everyone(statement: Mapping[str, Any]) -> bool:
    """Whether the statement grants to anyone: Principal "*" / {"AWS": "*"}, or NotPrincipal."""
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in _strings(value) for value in principal.values())
    return False


def _statement_public(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow" or not _everyone(statement):
        return False
    condition = statement.get("Condition")
    return not (isinstance(condition, Mapping) and _bounded(condition))


def public_statements(document: Mapping[str, Any] | str) -> list[int]:
    """The 0-based indexes of the statements that make ``document`` public (empty: not public)."""
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", []) if isinstance(parsed, Mapping) else []
    if isinstance(statements, Mapping):
        statements = [statements]
    return [index for index, statement in enumerate(statements)
            if isinstance(statement, Mapping) and _statement_public(statement)]


def _public_text(document: str) -> bool:
    try:
        return bool(public_statements(document))
    except ValueError:
        return True  # unreadable: S3 starts from "public"


def is_public(document: Mapping[str, Any] | str | None) -> bool:
    """Whether S3 counts the bucket policy ``document`` public (None: no policy, not public)."""
    if document is None:
        return False
    if isinstance(document, str):
        return _public_text(document)
    return bool(public_statements(document))
