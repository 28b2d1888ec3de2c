"""What a guarantee comes back as: proved, violated (with a witness the concrete engine allows) or
unknown (with the reason). Cedar's symbolic compiler answers the same three ways."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from orchestrator.authz.engine.inputs import Decision, StatementRef

__all__ = ["PROVED", "VIOLATED", "UNKNOWN", "Witness", "GuaranteeVerdict"]

PROVED, VIOLATED, UNKNOWN = "proved", "violated", "unknown"


@dataclass(frozen=True)
class Witness:
    """A concrete request that the guarantee forbids and the concrete engine allows."""

    caller_arn: str
    caller_account: str
    principal_type: str
    action: str
    context: Mapping[str, tuple[str, ...]]
    org_id: str | None = None
    org_paths: tuple[str, ...] = ()
    vpc_endpoint: str | None = None
    role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The statements the concrete engine's decision names (it allowed the request).
    statements: tuple[StatementRef, ...] = ()
    decision: Decision | None = None


@dataclass(frozen=True)
class GuaranteeVerdict:
    status: str
    witness: Witness | None = None
    reason: str = ""
    #: Per action: proved, violated or unknown (for a report).
    actions: Mapping[str, str] = field(default_factory=dict)

    @property
    def proved(self) -> bool:
        return self.status == PROVED
