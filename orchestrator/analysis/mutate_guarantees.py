"""Mutants that widen access to principals nobody named (issue 24): a `Principal` widened to `*` or
to the account, a condition dropped, an effect flipped, an action or resource widened, in a
resource's own policy (key, bucket, table policy, a role's trust policy). No expectation can notice
such a mutant when no named principal's decision changes; a guarantee can. So:

- a state's guarantee proved on the scenario and violated on the mutant kills it
  (`GuaranteeKill`, with the witness the concrete engine allowed);
- otherwise, when the mutant opens the resource to someone outside its account (decided by the
  symbolic engine on the mutant, and proved closed on the scenario), the mutant is a survivor and
  the suggestion is a guarantee ready to paste under `guarantees:` of the state.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Mapping
from dataclasses import dataclass, field, replace

import yaml

from orchestrator.analysis.findings import actions_of
from orchestrator.analysis.mutants import Mutant, value_at
from orchestrator.model.policy import as_list
from orchestrator.model.scenario import DesiredState, Guarantee, State
from orchestrator.analysis.outside_reach import may_reach_outside
from orchestrator.resources.context import RunContext
from orchestrator.whoelse import PROVED, VIOLATED, GuaranteeVerdict, Question, Scope, decide
from orchestrator.whoelse.from_state import QuestionError, outside_question, question_for

__all__ = ["WIDENING", "GuaranteeKill", "Widening", "GuaranteeChecks", "resource_of", "guarantee_yaml"]

#: The operators that can let in principals nobody named.
WIDENING = frozenset({"principal-any", "principal-account", "drop-condition", "flip-effect", "action-wildcard",
                      "resource-any"})
_POLICIES = (("key policy of ", "key"), ("bucket policy of ", "bucket"), ("table policy of ", "table"),
             ("trust policy of ", "role"))


@dataclass(frozen=True)
class GuaranteeKill:
    """The guarantee that noticed the mutant: its state, index, words and the witness's caller."""

    state: str
    index: int
    words: str
    witness: str


@dataclass(frozen=True)
class Widening:
    """What the mutant opens: the resource, the actions now reachable from outside its account."""

    state: int
    resource: str
    actions: tuple[str, ...]
    witness: str


def resource_of(policy: str) -> str | None:
    """`key:data` of "key policy of key:data"; None for a policy that is no resource's own."""
    for prefix, kind in _POLICIES:
        if policy.startswith(prefix) and policy.removeprefix(prefix).startswith(f"{kind}:"):
            return policy.removeprefix(prefix)
    return None


def guarantee_yaml(resource: str, actions: tuple[str, ...]) -> str:
    """A `guarantees:` list item in the shipped scenarios' style."""
    entry = {"resource": resource, "actions": list(actions), "no_access_from": "outside-account"}
    lines = [f"{'- ' if n == 0 else '  '}{name}: {_flow(value)}" for n, (name, value) in enumerate(entry.items())]
    return "\n".join(lines) + "\n"


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1000).removesuffix("\n").removesuffix("\n...").strip()


@dataclass
class GuaranteeChecks:
    """The scenario's guarantees and its resources' outside access, decided once each on the
    unmutated states, then on each widening mutant."""

    ctx: RunContext
    states: list[State]
    desired: list[DesiredState]
    _baseline: dict[tuple[int, int], GuaranteeVerdict] = field(default_factory=dict)
    _closed: dict[tuple[int, str, str], bool] = field(default_factory=dict)

    def kill(self, mutated: list[DesiredState], affected: list[int]) -> GuaranteeKill | None:
        for index in affected:
            for number, guarantee in enumerate(self.states[index].guarantees):
                if self._verdict(index, number, guarantee, self.desired[index]).status != PROVED:
                    continue  # a guarantee the scenario does not keep notices nothing
                verdict = _decided(self.ctx, mutated[index], guarantee)
                if verdict.status == VIOLATED and verdict.witness is not None:
                    return GuaranteeKill(self.states[index].name, number, _words(guarantee), verdict.witness.caller_arn)
        return None

    def widening(self, mutant: Mutant, data: dict, mutated: list[DesiredState], affected: list[int]) -> Widening | None:
        resource = resource_of(mutant.site.policy)
        if mutant.operator not in WIDENING or resource is None:
            return None
        actions = _statement_actions(data, mutant, resource)
        for index in affected:
            question = _outside_question(self.ctx, mutated[index], resource, actions)
            if question is None or not self._may_open(index, resource, actions, question):
                continue
            opened = [(action, verdict.witness.caller_arn) for action in actions if self._closed_before(index, resource, action)
                      for verdict in [decide(replace(question, actions=(action,)))]
                      if verdict.status == VIOLATED and verdict.witness is not None]
            if opened:
                return Widening(index, resource, tuple(action for action, _ in opened), opened[0][1])
        return None

    def _may_open(self, index: int, resource: str, actions: tuple[str, ...], mutated: Question) -> bool:
        """False when the mutant's policy differs from the state's only where no outsider is
        concerned (``outside_reach``): then it opens nothing and no solver is asked."""
        before = _outside_question(self.ctx, self.desired[index], resource, actions)
        if before is None or replace(before, resource_policy=None) != replace(mutated, resource_policy=None):
            return True
        return may_reach_outside(_document(before), _document(mutated), before.resource_account or "")

    def _verdict(self, index: int, number: int, guarantee: Guarantee, desired: DesiredState) -> GuaranteeVerdict:
        if (index, number) not in self._baseline:
            self._baseline[(index, number)] = _decided(self.ctx, desired, guarantee)
        return self._baseline[(index, number)]

    def _closed_before(self, index: int, resource: str, action: str) -> bool:
        key = (index, resource, action)
        if key not in self._closed:
            question = _outside_question(self.ctx, self.desired[index], resource, (action,))
            self._closed[key] = question is not None and decide(question).status == PROVED
        return self._closed[key]


def _decided(ctx: RunContext, desired: DesiredState, guarantee: Guarantee) -> GuaranteeVerdict:
    try:
        return decide(question_for(ctx, desired, guarantee))
    except QuestionError as error:
        return GuaranteeVerdict("unknown", reason=str(error))


def _outside_question(ctx: RunContext, desired: DesiredState, resource: str,
                      actions: tuple[str, ...]) -> Question | None:
    """"Can anyone outside the resource's account make one of ``actions`` on it?" (None: the
    state does not declare the resource)."""
    try:
        question = outside_question(ctx, desired, resource, actions, Scope())
    except QuestionError:
        return None
    return replace(question, scope=Scope.outside_account(question.resource_account or ""))


def _document(question: Question) -> Mapping[str, Any] | str | None:
    return question.resource_policy.document if question.resource_policy is not None else None


def _statement_actions(data: dict, mutant: Mutant, resource: str) -> tuple[str, ...]:
    """The language's actions on the resource's kind that the mutated statement names."""
    statement = value_at(data, mutant.site.path) if not mutant.site.sid_entry else None
    patterns = [str(a) for a in as_list(statement.get("Action"))] if isinstance(statement, dict) else []
    kind = resource.partition(":")[0]
    known = actions_of(kind)
    if not patterns or mutant.operator == "action-wildcard":
        return known
    return tuple(a for a in known if any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in patterns)) or known


def _words(guarantee: Guarantee) -> str:
    actions = ", ".join(guarantee.actions)
    if guarantee.only is not None:
        return f"only {', '.join(guarantee.only) or 'nobody'} may {actions} on {guarantee.resource}"
    return f"no access from {guarantee.no_access_from}: {actions} on {guarantee.resource}"
