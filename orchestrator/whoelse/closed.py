"""A question answered without the solver: a resource closed to every caller outside its account.

A caller outside the resource's account (another account's principal, a service, the anonymous
caller) is let in only by what the resource itself says: its resource-based policy (a key policy,
a bucket or table policy, a role's trust policy) or a KMS grant (IAM User Guide, "Cross-account
policy evaluation logic": a request across accounts needs the resource-based policy to allow it as
well as the caller's own account; "Policy evaluation logic": an anonymous request is allowed only by
a resource-based policy; KMS Developer Guide, "Allowing users in other accounts to use a KMS key":
the key policy or a grant must give the other account access). The concrete engine decides so too
(``whoelse/logic.py`` ``allowed``: across accounts the resource side must allow).

So when every caller the question quantifies over is outside the resource's account and no
``Allow`` statement that may name the action can name such a caller (each principal it names is of
the resource's account: a user or role there, its root or its id; a condition only narrows a
statement) and no grant for the operation goes to anyone else, the answer is proved, for every
identity side, organization and context. Anything this module cannot read leaves the question to
the solver. The differential test checks it with the rest of ``decide``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from orchestrator.arns import account_of, parse_arn
from orchestrator.authz.engine.evaluate import FREE_ACTIONS
from orchestrator.whoelse.question import Question, Scope
from orchestrator.whoelse.accounts import known_accounts

__all__ = ["closed_to_outsiders", "statements_of", "inside_only"]

#: Never answered here: an action allowed whatever the policies say, and kms:RetireGrant, which a
#: grant's retiring principal (of any account) may call with no policy allowing it (KMS Developer
#: Guide, "Retiring and revoking grants"; the solver leaves it unknown: docs/whoelse.md).
_NEVER = FREE_ACTIONS | {"kms:retiregrant"}


def closed_to_outsiders(question: Question, action: str) -> bool:
    """Proved without the solver: nobody in the question's scope may make ``action`` (see above)."""
    account = question.resource_account
    if not account or action.lower() in _NEVER or not _outsiders_only(question, question.scope, account):
        return False
    policy = question.resource_policy
    statements = statements_of(policy.document) if policy is not None else []
    if statements is None:
        return False
    allowing = [s for s in statements if not isinstance(s, dict) or s.get("Effect") != "Deny"]
    if not all(isinstance(s, dict) and (not _may_name(s, action) or inside_only(s, account)) for s in allowing):
        return False
    return all(_grantee_inside(grant.grantee_principal, account) for grant in question.grants
               if _grants_action(grant.operations, action))


def _outsiders_only(question: Question, scope: Scope, account: str) -> bool:
    """Whether every caller in ``scope`` is outside ``account`` (``whoelse/scope.py`` in_scope)."""
    if account in scope.outside_accounts:
        return True
    membership = question.organizations.get(account)
    if membership is not None and membership.org_id in scope.outside_organizations:
        return True
    if scope.public and account in known_accounts(question):
        return True
    return bool(scope.accounts) and account not in scope.accounts


def statements_of(document: Mapping[str, Any] | str | None) -> list[Any] | None:
    """A policy's statements (None: unreadable)."""
    if document is None:
        return []
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return None
    if not isinstance(parsed, Mapping):
        return None
    statement = parsed.get("Statement")
    return list(statement) if isinstance(statement, list) else [statement]


def inside_only(statement: Mapping[str, Any], account: str) -> bool:
    """Every principal the statement names belongs to ``account`` (a ``Principal`` of ``AWS``
    entries only: users and roles there, its root ARN, its id)."""
    principal = statement.get("Principal")
    if "NotPrincipal" in statement or not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return False
    names = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
    return all(isinstance(name, str) and _of_account(name, account) for name in names)


def _of_account(name: str, account: str) -> bool:
    if re.fullmatch(r"\d{12}", name):
        return name == account
    arn = parse_arn(name)
    return arn is not None and arn.service in ("iam", "sts") and account_of(name) == account


def _may_name(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's Action may match ``action`` (NotAction or anything unreadable: yes)."""
    if "Action" not in statement:
        return True
    patterns = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return any(not isinstance(p, str) or _glob(p).fullmatch(action) for p in patterns)


def _glob(pattern: str) -> re.Pattern[str]:
    """An IAM action pattern (``*`` any run, ``?`` one character, case-insensitive)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.IGNORECASE)


def _grants_action(operations: Any, action: str) -> bool:
    service, _, operation = action.partition(":")
    return service.lower() == "kms" and operation.lower() in {str(op).lower() for op in operations}


def _grantee_inside(grantee: str, account: str) -> bool:
    arn = parse_arn(grantee)
    return arn is not None and arn.service in ("iam", "sts") and arn.account == account
