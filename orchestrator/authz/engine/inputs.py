"""Engine input and output types (re-exported by :mod:`orchestrator.authz.engine.evaluate`).

``Decision.decision`` uses the words of IAM's SimulateCustomPolicy
``EvalDecision`` ("allowed", "explicitDeny", "implicitDeny").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.authz.engine.organization import Membership, VpcEndpoint

__all__ = [
    "PolicySource", "Grant", "PolicyInputs", "StatementRef", "Decision",
    "ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY",
]

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"


@dataclass(frozen=True)
class PolicySource:
    """One policy: kind is "identity", "boundary", "session", "resource", "key" or "trust"."""

    kind: str
    name: str
    document: Mapping[str, Any] | str


@dataclass(frozen=True)
class Grant:
    """A KMS grant (allow-only), AWS KMS Developer Guide "Grants in AWS KMS"."""

    grantee_principal: str
    operations: Sequence[str]
    key_arn: str
    encryption_context_equals: Mapping[str, str] | None = None
    encryption_context_subset: Mapping[str, str] | None = None
    name: str = ""
    #: Who may retire it besides its grantee (KMS Developer Guide, "Retiring and revoking grants").
    retiring_principal: str | None = None


@dataclass(frozen=True)
class PolicyInputs:
    """Every policy that applies to one request."""

    identity: Sequence[PolicySource] = ()
    boundaries: Sequence[PolicySource] = ()
    resource_policy: PolicySource | None = None
    resource_account: str | None = None
    grants: Sequence[Grant] = ()
    encryption_context: Mapping[str, str] | None = None
    #: The session policies of a role session (AssumeRole's Policy and PolicyArns), none for any
    #: other caller: IAM User Guide, "Session policies" (see evaluate.Evaluation.session_ok).
    session_policies: Sequence[PolicySource] = ()
    #: S3 Block Public Access, RestrictPublicBuckets in force for the resource: a *public* resource
    #: policy (engine/public.py) grants only to principals of the resource's account.
    restrict_public: bool = False
    #: The organization of the caller's account (its SCPs cap the caller) and of the resource's
    #: account (its RCPs cap the resource), and the VPC endpoint the request goes through:
    #: engine/organization.py, decided by engine/guardrails.py. None: no organization, no endpoint.
    principal_org: Membership | None = None
    resource_org: Membership | None = None
    vpc_endpoint: VpcEndpoint | None = None
    #: The caller is a service-linked role (neither SCPs nor RCPs restrict it) when its ARN does not
    #: say so (a session ARN carries no role path).
    service_linked_role: bool = False


@dataclass(frozen=True)
class StatementRef:
    """A statement that produced a decision (``index`` is 0-based)."""

    policy_kind: str
    policy_name: str
    sid: str | None
    index: int
    effect: str


@dataclass(frozen=True)
class Decision:
    """The engine's answer and its explanation."""

    decision: str
    layer: str
    matched: tuple[StatementRef, ...]
    missing_context: tuple[str, ...]
    reason: str
    failed_conditions: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED
