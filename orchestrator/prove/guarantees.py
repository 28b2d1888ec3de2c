"""A state's guarantees, decided after its expectations (issue 24): each is asked of the symbolic
engine (orchestrator/whoelse/) over the state as the scenario declares it (the run's ARNs), and comes
back proved, violated with a witness (a request the concrete engine allows), or unknown with the
reason. A guarantee passes when its verdict is the one it expects (`expect`, `proved` by default);
a verdict opposite to that fails the run (exit 1); unknown is neither: it does not fail the run, it
is not a pass either (JUnit shows it skipped, with its reason: nothing was verified)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.evaluate import Engine
from orchestrator.model.scenario import DesiredState, Guarantee
from orchestrator.resources.context import RunContext
from orchestrator.whoelse import PROVED, UNKNOWN, VIOLATED, Witness, decide
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
    verdict = decide(question, engine)
    return GuaranteeResult(guarantee, verdict.status, verdict.reason, verdict.witness, dict(verdict.actions),
                           time.perf_counter() - started)
