"""The engine with the services' own rules: the one way orchestrate decides a request.

``orchestrator/authz/engine`` is pure policy logic; a KMS key policy and a role trust policy
decide in ways of their own (``orchestrator/authz/services``). :func:`service_engine` puts them
together; :func:`evaluate` and :func:`side_decisions` decide one request with nothing kept (a
caller that decides many holds a :func:`service_engine`).
"""
from __future__ import annotations

from orchestrator.authz.engine.documents import PolicyCache, PolicyError
from orchestrator.authz.engine.evaluate import NO_PERMISSION_REQUIRED, Engine
from orchestrator.authz.engine.inputs import Decision, Grant, PolicyInputs, PolicySource, StatementRef
from orchestrator.authz.engine.memo import DecisionMemo
from orchestrator.authz.engine.request import Principal, Request
from orchestrator.authz.services.rules import SERVICE_RULES

__all__ = [
    "service_engine", "evaluate", "side_decisions", "Engine", "Decision", "PolicyInputs", "PolicySource",
    "Grant", "StatementRef", "Principal", "Request", "PolicyError", "NO_PERMISSION_REQUIRED",
]


def service_engine(decisions: DecisionMemo | None = None, policies: PolicyCache | None = None) -> Engine:
    """An engine with the services' rules, keeping its own compiled policies and decisions."""
    return Engine(SERVICE_RULES, policies, decisions)


def evaluate(request: Request, inputs: PolicyInputs) -> Decision:
    """Decide one request (nothing is kept: compiled policies are made for this call)."""
    return service_engine().evaluate(request, inputs)


def side_decisions(request: Request, inputs: PolicyInputs) -> dict[str, str]:
    """Each side's decision on its own (SimulateCustomPolicy's EvalDecisionDetails)."""
    return service_engine().side_decisions(request, inputs)
