"""KMS grant evaluation.

Follows the AWS KMS Developer Guide, "Grants in AWS KMS" and "Grant
constraints": a grant allows its grantee principal the listed operations on
one KMS key; ``EncryptionContextEquals`` requires the request's encryption
context to be exactly the given pairs, ``EncryptionContextSubset`` requires it
to contain them.  Grants only allow; they never deny.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from orchestrator import arns
from orchestrator.authz.engine.inputs import Grant
from orchestrator.authz.engine.request import Principal

__all__ = ["matching_grants", "same_principal"]



def same_principal(named: str, principal: Principal) -> bool:
    """``named`` (a grant's grantee or retiring principal) is the caller: its ARN, or the role
    of the caller's assumed-role session."""
    return _is_grantee(named, principal)


def _is_grantee(grantee: str, principal: Principal) -> bool:
    if grantee == principal.arn:
        return True
    session = arns.SESSION_ARN.match(principal.arn)
    role = arns.ROLE_ARN.match(grantee)
    return (session is not None and role is not None
            and (session["partition"], session["account"], session["role"]) == (role["partition"], role["account"], role["name"]))


def _key_id(arn: str) -> str:
    return arns.key_id_of(arn)


def _context_ok(grant: Grant, context: Mapping[str, str]) -> bool:
    if grant.encryption_context_equals is not None and dict(context) != dict(grant.encryption_context_equals):
        return False
    subset = grant.encryption_context_subset
    return subset is None or all(context.get(k) == v for k, v in subset.items())


def matching_grants(grants: Sequence[Grant], principal: Principal, action: str,
                    key_arn: str, context: Mapping[str, str]) -> list[int]:
    """Indexes of the grants that allow ``action`` (e.g. "kms:Decrypt") on ``key_arn``."""
    service, _, operation = action.partition(":")
    if service.lower() != "kms" or not operation:
        return []
    operation = operation.lower()
    found = []
    for index, grant in enumerate(grants):
        if _key_id(grant.key_arn) != _key_id(key_arn) or not _is_grantee(grant.grantee_principal, principal):
            continue
        if operation in (op.lower() for op in grant.operations) and _context_ok(grant, context):
            found.append(index)
    return found
