"""``decide(question)``: proved, violated (with a witness the concrete engine allows) or unknown.

An action on a resource that names nobody outside its account, asked about callers outside it,
is proved without the solver (:mod:`~orchestrator.whoelse.closed`); the others go to the solver
(:mod:`~orchestrator.whoelse.solve`), which is only loaded then: a run whose guarantees all close
that way never imports z3 (about 0.1 s and 40 MiB of a process's start).
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from orchestrator.whoelse.closed import closed_to_outsiders
from orchestrator.whoelse.question import Question
from orchestrator.whoelse.verdict import PROVED, GuaranteeVerdict

if TYPE_CHECKING:
    from orchestrator.authz.engine.evaluate import Engine

__all__ = ["decide"]


def decide(question: Question, engine: Engine | None = None) -> GuaranteeVerdict:
    """Is the guarantee proved, violated (with a witness), or unknown (with the reason)?"""
    left = tuple(action for action in question.actions if not closed_to_outsiders(question, action))
    if not left:
        return GuaranteeVerdict(PROVED, None, "", {action: PROVED for action in question.actions})
    from orchestrator.whoelse.solve import solve

    verdict = solve(replace(question, actions=left), engine)
    closed = {action: PROVED for action in question.actions if action not in left}
    return replace(verdict, actions={**closed, **verdict.actions})
