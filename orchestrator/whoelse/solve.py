"""The solver's side of ``decide`` (``whoelse/guarantee.py``): each action of the question that
the shortcut left, proved, violated (with a witness the concrete engine allows) or unknown.

For each action, one satisfiability check of "a well-formed request, by a caller
in scope, that the engine allows" (:mod:`~orchestrator.whoelse.logic`). Unsatisfiable: no such
request exists (proved for that action). Satisfiable: the model is read back as a concrete request
and decided by the concrete engine (:mod:`~orchestrator.whoelse.witness`); if it allows it, it is
the witness; if not, and the encoding left a gap, that model is blocked and another looked for a
few times before the answer is unknown; with no gap a disagreement is a bug of the encoding, and
the answer is unknown saying so. The solver's own unknown (its timeout) is unknown too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import z3

from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.evaluate import Engine
from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.variables import VARIABLE
from orchestrator.whoelse.gaps import Gaps
from orchestrator.whoelse.identity import Identity, declared_parts, identity_side
from orchestrator.whoelse.keys import Endpoint, KeyPlan, Keys
from orchestrator.whoelse.lemmas import prefix_lemmas
from orchestrator.whoelse.logic import allowed
from orchestrator.whoelse.question import Question
from orchestrator.whoelse.accounts import known_accounts
from orchestrator.whoelse.scope import in_scope, principal_values, well_formed
from orchestrator.whoelse.statements import RESOURCE_KINDS, StatementEncoder
from orchestrator.whoelse.symbols import ANONYMOUS, ROOT, SERVICE, SESSION, USER, PrincipalVars
from orchestrator.whoelse.text import sval
from orchestrator.whoelse.verdict import PROVED, UNKNOWN, VIOLATED, GuaranteeVerdict, Witness
from orchestrator.whoelse.witness import read_model, redecide

__all__ = ["solve", "key_plan", "ATTEMPTS", "SPLIT_ACCOUNTS"]

#: Models looked at when a witness the concrete engine refuses came through a gap.
ATTEMPTS = 4
#: Up to this many accounts named, an IAM caller's case is split per account (three cases each:
#: cheap ones); beyond, one case for any account (a question naming hundreds stays hundreds of checks).
SPLIT_ACCOUNTS = 32


def _sources(question: Question) -> Iterator[tuple[PolicySource, bool]]:
    """Every policy of the question, and whether it is compiled as a resource-based policy."""
    if question.resource_policy is not None:
        yield question.resource_policy, question.resource_policy.kind in RESOURCE_KINDS
    for declared in question.principals:
        for source in (*declared.identity, *declared.boundaries):
            yield source, False
    orgs = [*question.organizations.values(), *([question.resource_org] if question.resource_org else [])]
    for membership in orgs:
        for level in membership.levels:
            yield from ((source, False) for source in level.scps)
            yield from ((source, True) for source in level.rcps)
    for endpoint in question.endpoints:
        yield endpoint.source(), True


def key_plan(question: Question, engine: Engine) -> KeyPlan:
    """What the question's policies ask of each condition key."""
    conditions, variables = [], []
    for source, resource_based in _sources(question):
        for statement in engine.policies.get(source.document, resource_based).statements:
            conditions += statement.conditions
            templates = [t for c in statement.conditions for t in c.templates]
            if statement.resources is not None:
                templates += statement.resources.templates
            variables += [part[1] for t in templates for part in t if part[0] == VARIABLE and part[1]]
    return KeyPlan(conditions, variables)


def solve(question: Question, engine: Engine | None = None) -> GuaranteeVerdict:
    """Is the guarantee proved, violated (with a witness), or unknown (with the reason), by the solver?"""
    engine = engine if engine is not None else service_engine()
    plan = key_plan(question, engine)
    identities = [found for found in map(declared_parts, question.principals) if found is not None]
    per_action: dict[str, str] = {}
    reasons: list[str] = []
    for action in question.actions:
        status, witness, reason = _decide_action(question, action, plan, identities, engine)
        per_action[action] = status
        if status == VIOLATED:
            return GuaranteeVerdict(VIOLATED, witness, reason, per_action)
        if status == UNKNOWN:
            reasons.append(f"{action}: {reason}")
    if reasons:
        return GuaranteeVerdict(UNKNOWN, None, "; ".join(reasons), per_action)
    return GuaranteeVerdict(PROVED, None, "", per_action)


@dataclass(frozen=True)
class _Encoded:
    """One action's encoding: the request's variables, the identity side, the gaps, the problem."""

    p: PrincipalVars
    keys: Keys
    endpoint: Endpoint
    declared: list[tuple[Identity, z3.BoolRef]]
    gaps: Gaps
    problem: z3.BoolRef


def _encode(question: Question, action: str, plan: KeyPlan, identities: list[Identity], engine: Engine) -> _Encoded:
    p, endpoint, gaps = PrincipalVars(), Endpoint(), Gaps()
    keys = Keys(question, action, plan, p, endpoint)
    encoder = StatementEncoder(keys, p, gaps, question.resource, action, engine.policies)
    side = identity_side(identities, p, encoder)
    formula = allowed(question, action, p, keys, endpoint, encoder, side, gaps)
    problem = z3.And(formula, *well_formed(question, p, endpoint, keys, list(side.declared)),
                     *in_scope(question, p, keys, endpoint))
    return _Encoded(p, keys, endpoint, list(side.declared), gaps, problem)


def _decide_action(question: Question, action: str, plan: KeyPlan, identities: list[Identity],
                   engine: Engine) -> tuple[str, Witness | None, str]:
    """Every case is looked at: a violation in any wins over an unknown in another."""
    encoded = _encode(question, action, plan, identities, engine)
    refused: list[str] = []
    unknown = ""
    for bound in _cases(question, encoded.p):
        status, witness, reason = _solve(question, action, encoded, bound, engine, refused)
        if status == VIOLATED:
            return status, witness, reason
        if status == UNKNOWN and not unknown:
            unknown = reason
    if unknown:
        return UNKNOWN, None, unknown
    if refused:
        return UNKNOWN, None, "outside the encoding: " + "; ".join(encoded.gaps.reasons)
    return PROVED, None, ""


def _cases(question: Question, p: PrincipalVars) -> list[_Case]:
    """The problem split by the caller's type (or, over a finite universe, by caller): each case
    simplified with those variables bound is far easier for the string solver than the whole."""
    if question.scope.within is not None:
        return [_Case(principal_values(u, p)) for u in question.scope.within.principals]
    empty = z3.StringVal("")
    accounts = sorted(known_accounts(question))
    accounts = accounts if len(accounts) <= SPLIT_ACCOUNTS else []
    cases = [case for kind, arn in ((USER, p.user_arn()), (SESSION, p.session_arn()), (ROOT, p.root_arn()))
             for case in _by_account(p, kind, arn, accounts)]
    return [*cases,
            _Case([(p.kind, z3.IntVal(ANONYMOUS)), (p.arn, z3.StringVal("anonymous")), (p.account, empty)]),
            _Case([(p.kind, z3.IntVal(SERVICE)), (p.account, empty)])]


def _by_account(p: PrincipalVars, kind: int, arn: z3.ExprRef, accounts: list[str]) -> list[_Case]:
    """An IAM caller's case split once more: one per account the question names (its ARN, its
    organization and its identity side then constants), and one for every other account."""
    found = [_Case([(p.kind, z3.IntVal(kind)), (p.account, sval(account)),
                    (p.arn, z3.substitute(arn, (p.account, sval(account))))]) for account in accounts]
    others = [p.account != sval(account) for account in accounts]
    return [*found, _Case([(p.kind, z3.IntVal(kind)), (p.arn, arn)], others)]


@dataclass(frozen=True)
class _Case:
    """Variables bound to values, and what else holds in the case."""

    bound: list[tuple[z3.ExprRef, z3.ExprRef]]
    extra: list[z3.BoolRef] = field(default_factory=list)


def _solve(question: Question, action: str, encoded: _Encoded, case: _Case,
           engine: Engine, refused: list[str]) -> tuple[str, Witness | None, str]:
    """One case: proved (no model; after a refused model that says nothing, see ``refused``),
    violated, or unknown."""
    p, keys, gaps = encoded.p, encoded.keys, encoded.gaps
    solver = z3.Solver()
    solver.set("timeout", question.timeout_ms)
    problem = z3.simplify(z3.substitute(encoded.problem, *case.bound))
    solver.add(problem, *prefix_lemmas(problem), *[var == value for var, value in case.bound], *case.extra)
    for _ in range(ATTEMPTS):
        answer = solver.check()
        if answer == z3.unsat:
            return PROVED, None, ""
        if answer != z3.sat:
            return UNKNOWN, None, f"the solver gave up ({solver.reason_unknown()})"
        replay = read_model(solver.model(), question, action, p, keys, encoded.endpoint, encoded.declared)
        decision, witness = redecide(replay, engine)
        if decision.allowed:
            return VIOLATED, witness, decision.reason
        if not gaps:
            return UNKNOWN, None, (f"the concrete engine refuses the symbolic witness {witness.caller_arn} "
                                   f"({decision.reason}): a disagreement, a bug of the encoding")
        refused.append(witness.caller_arn)
        solver.add(z3.Or(p.arn != sval(witness.caller_arn), *_other_context(keys, solver.model())))
    return UNKNOWN, None, "outside the encoding: " + "; ".join(gaps.reasons)


def _other_context(keys: Keys, model: z3.ModelRef) -> list[z3.BoolRef]:
    """Any request whose free keys differ from the model's (to look for another witness)."""
    differs = []
    for var in keys.free():
        for slot in var.slots:
            if isinstance(slot.value, z3.ExprRef):
                differs.append(slot.value != model.eval(slot.value, model_completion=True))
            differs.append(slot.present != model.eval(slot.present, model_completion=True))
    return differs
