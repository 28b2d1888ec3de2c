"""Which accounts a question names: every twelve-digit id in its resource, its policies, grants,
organizations and declared principals (no solver: read by the shortcut and the encoding alike)."""
from __future__ import annotations

import re

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.whoelse.question import Question

__all__ = ["known_accounts"]

_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


def known_accounts(question: Question) -> frozenset[str]:
    """Every account id the question names (its policies, grants, organizations, principals)."""
    texts = [question.resource, question.resource_account or "", *question.organizations,
             *(d.arn for d in question.principals), *(g.grantee_principal for g in question.grants)]
    for source in _sources(question):
        texts.append(source.document if isinstance(source.document, str) else repr(source.document))
    return frozenset(found for text in texts for found in _ACCOUNT.findall(text))


def _sources(question: Question) -> list[PolicySource]:
    found = [question.resource_policy] if question.resource_policy is not None else []
    for declared in question.principals:
        found += [*declared.identity, *declared.boundaries]
    for membership in [*question.organizations.values(), *([question.resource_org] if question.resource_org else [])]:
        for level in membership.levels:
            found += [*level.scps, *level.rcps]
    found += [endpoint.source() for endpoint in question.endpoints]
    return found
