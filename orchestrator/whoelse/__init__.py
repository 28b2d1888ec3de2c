"""Who else? Guarantees over every principal, decided by an SMT solver (z3), beside the concrete
engine (docs/whoelse.md). Pure: no boto3, no moto; every witness is re-decided by the concrete
engine (``orchestrator.authz.decide.service_engine``)."""
from orchestrator.whoelse.guarantee import decide
from orchestrator.whoelse.question import DeclaredPrincipal, Question, Scope, Universe
from orchestrator.whoelse.verdict import PROVED, UNKNOWN, VIOLATED, GuaranteeVerdict, Witness

__all__ = ["decide", "Question", "Scope", "Universe", "DeclaredPrincipal", "GuaranteeVerdict", "Witness",
           "PROVED", "VIOLATED", "UNKNOWN"]
