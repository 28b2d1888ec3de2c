"""A state's guarantees, decided after its expectations (issue 24): each is asked of the symbolic
engine (orchestrator/whoelse/) over the state as the scenario declares it (the run's ARNs), and comes
back proved, violated with a witness (a request the concrete engine allows), or unknown with the
reason. A guarantee passes when its verdict is the one it expects (`expect`, `proved` by default);
a verdict opposite to that fails the run (exit 1); unknown is neither: it does not fail the run, it
is not a pass either (JUnit shows it skipped, with its reason: nothing was verified)."""
from __future__ import annotations

import ctypes
import sys
import time
from dataclasses import dataclass, field, replace

from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.evaluate import Engine
from orchestrator.model.scenario import DesiredState, Guarantee
from orchestrator.resources.context import RunContext
from orchestrator.authz.engine.request import Principal
from orchestrator.commands.signals import stop_named
from orchestrator.whoelse import PROVED, UNKNOWN, VIOLATED, GuaranteeVerdict, Question, Universe, Witness, decide
from orchestrator.whoelse.from_state import QuestionError, question_for, world_of

__all__ = ["Replay", "GuaranteeResult", "decide_guarantees", "undecided", "PROVED", "VIOLATED", "UNKNOWN"]


@dataclass(frozen=True)
class Replay:
    """The witness made as a real call: its outcome (`allowed`, `denied`, `error`), or
    `not replayed` and why (a service principal, an endpoint context, a backend that is AWS)."""

    outcome: str
    reason: str = ""
    code: str | None = None

    @property
    def confirms(self) -> bool:
        return self.outcome == "allowed"


@dataclass
class GuaranteeResult:
    guarantee: Guarantee
    status: str
    reason: str = ""
    witness: Witness | None = None
    #: Per action: proved, violated or unknown.
    actions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    replay: Replay | None = None
    #: Where the guarantee starts in its scenario file (1-based; 0: unknown).
    line: int = 0
    col: int = 0

    @property
    def expected(self) -> str:
        return self.guarantee.expect

    @property
    def passed(self) -> bool:
        return self.status == self.expected

    @property
    def unknown(self) -> bool:
        return self.status == UNKNOWN

    @property
    def failed(self) -> bool:
        """Decided, and not as the guarantee expects: the run fails."""
        return not self.unknown and not self.passed


def plainer(question: Question, verdict: GuaranteeVerdict, engine: Engine) -> GuaranteeVerdict:
    """The violation with the plainest witness: the same caller making the same call with no
    context values and through no VPC endpoint, when the engine allows that too (a witness a real
    call can be made of); else the solver's own witness."""
    w = verdict.witness
    if w is None or (not w.context and w.vpc_endpoint is None):
        return verdict
    caller = Principal(w.caller_arn, w.caller_account, w.principal_type, tags=dict(w.tags), role_arn=w.role_arn)
    scope = replace(question.scope, within=Universe((caller,)))
    plain = decide(replace(question, scope=scope, actions=(w.action,)), engine)
    return replace(verdict, witness=plain.witness) if plain.status == VIOLATED and plain.witness else verdict


def _solver_failures() -> tuple[type[BaseException], ...]:
    """z3's exception, when z3 was loaded (evaluated only when something was raised: a run whose
    guarantees closed without the solver never loads it, whoelse/guarantee.py)."""
    z3 = sys.modules.get("z3")
    return (z3.Z3Exception,) if z3 is not None else ()


def stop_in(error: ctypes.ArgumentError) -> BaseException | None:
    """The stop (SIGTERM, SIGINT: commands/signals.py) that came while z3 was converting a call's
    arguments: ctypes re-raises what the handler raised as an ArgumentError naming it
    (`argument 1: Terminated: SIGTERM`), its own context lost, so the name is all there is."""
    said = str(error)
    if ": Terminated: " in said:
        return stop_named(said.rpartition(": ")[2].strip())
    if ": KeyboardInterrupt" in said:
        return stop_named("SIGINT")
    return None


def undecided(guarantee: Guarantee, reason: str) -> GuaranteeResult:
    return GuaranteeResult(guarantee, UNKNOWN, reason)


def decide_guarantees(ctx: RunContext, desired: DesiredState, guarantees: list[Guarantee],
                      engine: Engine | None = None) -> list[GuaranteeResult]:
    """Each guarantee of one state, decided over the state as declared."""
    if not guarantees:
        return []
    engine = engine if engine is not None else service_engine()
    world = world_of(ctx, desired)
    return [decide_one(ctx, desired, guarantee, engine, world) for guarantee in guarantees]


def decide_one(ctx: RunContext, desired: DesiredState, guarantee: Guarantee, engine: Engine,
               world: object | None = None) -> GuaranteeResult:
    started = time.perf_counter()
    try:
        question = question_for(ctx, desired, guarantee, world=world)  # type: ignore[arg-type]
    except QuestionError as error:
        return undecided(guarantee, str(error))
    try:
        verdict = plainer(question, decide(question, engine), engine)
    except ctypes.ArgumentError as error:
        raise stop_in(error) or error
    except _solver_failures() as error:  # the solver's own failure: unknown, never proved, the run goes on
        return undecided(guarantee, f"the solver failed: {error}")
    return GuaranteeResult(guarantee, verdict.status, verdict.reason, verdict.witness, dict(verdict.actions),
                           time.perf_counter() - started)
