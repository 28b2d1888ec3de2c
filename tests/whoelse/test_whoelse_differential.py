"""The symbolic engine against brute force by the concrete engine (issue 24, "Done when"): over a
finite universe (three accounts, two organizations, users, role sessions, root users, the anonymous
caller, a service; two source IPs or none, a declared and an undeclared VPC endpoint or none,
SecureTransport true, false or absent), random policy stacks (key policies, bucket policies, trust
policies, identity policies and boundaries, grants, SCPs, RCPs, endpoint policies) and random
guarantees: the symbolic verdict is proved exactly when no request of the universe in the
guarantee's scope is allowed, and every witness is a request the concrete engine allows.

IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"; AWS KMS
Developer Guide, "Key policies in AWS KMS"; Organizations User Guide, "SCP evaluation" and "RCP
evaluation". ``WHOELSE_CASES`` sets the number of stacks (300 by default, and half as many over the second
universe: about 20 s on one core; the issue's thousands: WHOELSE_CASES=2000)."""
from __future__ import annotations

import os
from dataclasses import replace
import time

from whoelse_universe import SET_UNIVERSE, TYPED_UNIVERSE, UNIVERSE, SetStacks, Stacks, TypedStacks, in_scope, requests

from orchestrator.authz.decide import service_engine
from orchestrator.whoelse import PROVED, UNKNOWN, VIOLATED, Universe, decide

CASES = int(os.environ.get("WHOELSE_CASES", "300"))
SEED = 24


def _differential(stacks: Stacks, universe: Universe, cases: int) -> None:
    engine = service_engine()
    counts = {PROVED: 0, VIOLATED: 0, UNKNOWN: 0}
    started = time.perf_counter()
    problems = []
    for number in range(cases):
        question = stacks.question()
        verdict = decide(question, engine)
        counts[verdict.status] += 1
        allowed = [case for action in question.actions for case in requests(question, action, universe)
                   if in_scope(question, case.request.principal) and engine.evaluate(case.request, case.inputs).allowed]
        if verdict.status == UNKNOWN:
            problems.append(f"case {number}: unknown: {verdict.reason}")
        elif (verdict.status == PROVED) != (not allowed):
            first = allowed[0].request if allowed else None
            problems.append(f"case {number}: symbolic {verdict.status}, brute force allows {len(allowed)}"
                            f" (first: {first})")
        elif verdict.witness is not None:
            assert verdict.witness.decision is not None and verdict.witness.decision.allowed
    elapsed = time.perf_counter() - started
    print(f"\nwhoelse differential ({type(stacks).__name__}): {cases} cases, {counts}, {elapsed:.1f} s")
    assert not problems, "\n".join(problems[:20])


def test_the_symbolic_verdict_equals_brute_force_over_the_universe() -> None:
    _differential(Stacks(SEED), UNIVERSE, CASES)


def test_sets_of_values_and_the_encryption_context_agree_with_brute_force() -> None:
    """Multivalued keys (``aws:TagKeys``: every set of its values) under ForAnyValue / ForAllValues and
    plain operators, and grants with encryption-context constraints (AWS KMS Developer Guide, "Grant
    constraints"), over a second universe: the bounded slots lose no request."""
    _differential(SetStacks(SEED), SET_UNIVERSE, max(CASES // 2, 1))


def test_dates_numbers_and_addresses_agree_with_brute_force() -> None:
    """Date*, Numeric* (a rational limit too) and IpAddress over IPv4 and IPv6, with IfExists and
    negations (IAM User Guide, "IAM JSON policy elements: Condition operators")."""
    _differential(TypedStacks(SEED), TYPED_UNIVERSE, max(CASES // 2, 1))


def test_every_principal_contains_the_universe() -> None:
    """The same guarantees over every principal and every context (the universe dropped): what the
    universe violates is violated, and what is proved holds in the universe too (the general path
    takes callers' ARNs apart with the string solver, which the universe's bound callers do not)."""
    stacks, engine = Stacks(SEED + 1), service_engine()
    for number in range(max(CASES // 15, 1)):
        question = stacks.question()
        bounded = decide(question, engine)
        general = decide(replace(question, scope=replace(question.scope, within=None)), engine)
        assert general.status != UNKNOWN, (number, general.reason)
        if bounded.status == VIOLATED:
            assert general.status == VIOLATED, number
        if general.status == PROVED:
            assert bounded.status == PROVED, number
        if general.witness is not None:
            assert general.witness.decision is not None and general.witness.decision.allowed
