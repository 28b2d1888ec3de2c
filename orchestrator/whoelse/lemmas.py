"""Facts of the string theory about the problem's own prefix tests, stated up front.

A policy that names an organization path (``aws:PrincipalOrgPaths``), an ARN prefix or a glob's
literal start tests one string against several constant prefixes. z3's string solver finds that
``o-1/r-1/ou-1/`` being a prefix of a path while ``o-1/`` is not is a contradiction, but only after
a search (tens of milliseconds a case: most of ``findings``'s time on scp-allow-list). Between two
constants ``a`` and ``b`` tested against the same term ``x`` one of two facts always holds, and
saying it costs the solver nothing to check:

- ``b`` starts with ``a``: ``prefixof(b, x) => prefixof(a, x)``;
- neither starts with the other: ``not (prefixof(a, x) and prefixof(b, x))``.

Both are theorems of the theory (true of every string ``x``), so adding them never changes whether
the problem is satisfiable, nor its models.
"""
from __future__ import annotations

from collections import defaultdict

import z3

from orchestrator.whoelse.text import decoded

__all__ = ["prefix_lemmas", "MAX_PREFIXES"]

#: Beyond this many distinct constants tested against one term, its lemmas (pairwise) are left out.
MAX_PREFIXES = 40


def prefix_lemmas(formula: z3.ExprRef) -> list[z3.BoolRef]:
    """The two facts above for every pair of constant prefixes tested against the same term."""
    lemmas: list[z3.BoolRef] = []
    for tests in _prefix_tests(formula).values():
        texts = sorted(tests)
        if len(texts) > MAX_PREFIXES:
            continue
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                lemmas.append(_lemma(tests[a], tests[b], a, b))
    return lemmas


def _lemma(test_a: z3.BoolRef, test_b: z3.BoolRef, a: str, b: str) -> z3.BoolRef:
    if b.startswith(a):
        return z3.Implies(test_b, test_a)
    if a.startswith(b):
        return z3.Implies(test_a, test_b)
    return z3.Not(z3.And(test_a, test_b))


def _prefix_tests(formula: z3.ExprRef) -> dict[int, dict[str, z3.BoolRef]]:
    """Per tested term (by its id), each constant prefix's text and its test."""
    found: dict[int, dict[str, z3.BoolRef]] = defaultdict(dict)
    seen: set[int] = set()
    stack = [formula]
    while stack:
        term = stack.pop()
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        if z3.is_app_of(term, z3.Z3_OP_SEQ_PREFIX):
            prefix, tested = term.children()
            if z3.is_string_value(prefix):
                found[tested.get_id()][decoded(prefix)] = term
        stack.extend(term.children())
    return found
