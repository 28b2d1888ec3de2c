"""The guardrails around the usual evaluation: SCPs, RCPs and the VPC endpoint policy.

Follows the IAM User Guide, "Policy evaluation logic" (its flow: an explicit deny in any policy
wins; then resource control policies, then service control policies must allow, before the
resource-based, identity-based, boundary and session policies are looked at), and
"Determining whether a request is allowed or denied within an account" / "Cross-account policy
evaluation logic" (an SCP or RCP that does not allow denies even what a resource-based policy
grants).  None of these policies ever grants: each only caps.

* SCPs (Organizations User Guide, "Service control policies (SCPs)" and "SCP evaluation"): for the
  caller's account, at every level from the root through each unit down to the account, at least
  one attached SCP must allow ("If a permission is blocked at any level above the account ... the
  account does not have that permission"), and a Deny at any level wins.  They apply to the
  principals of member accounts only: never to the management account's principals, nor to
  service-linked roles ("Tasks and entities not restricted by SCPs"), nor to a caller outside the
  organization (the caller's own organization decides: ``principal_org``).  An anonymous caller or
  an AWS service principal belongs to no member account: SCPs do not apply to it.
* RCPs (Organizations User Guide, "Resource control policies (RCPs)" and "RCP evaluation"): for the
  resource's account, the same every-level-must-allow, any-deny-wins structure; they apply to the
  resources of member accounts (not the management account's) for the supported services only
  (:data:`~orchestrator.authz.engine.organization.RCP_SERVICES`), to every caller including
  principals outside the organization and root users, except service-linked roles ("Resources and
  entities not restricted by RCPs"), and never to ``kms:RetireGrant`` (same section).  AWS service
  principals are restricted (AWS KMS Developer Guide, "Resource control policies in AWS KMS": its
  example RCP exempts them with ``aws:PrincipalIsAWSService``, which would be needless otherwise).
  Not modelled: "RCPs do not apply to AWS managed keys" (the engine cannot tell one from a key ARN).
* The VPC endpoint policy (PrivateLink Guide, "Control access to VPC endpoints using endpoint
  policies"): a resource-based policy that must allow a request made through the endpoint
  ("does not override or replace identity-based policies or resource-based policies"); the default
  one allows everything.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from orchestrator.arns import SERVICE_LINKED_ROLE_ARN, SERVICE_LINKED_SESSION_ARN
from orchestrator.authz.engine.conditions import Condition
from orchestrator.authz.engine.explain import Hit
from orchestrator.authz.engine.inputs import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Decision, PolicySource
from orchestrator.authz.engine.organization import RCP, RCP_SERVICES, SCP, VPC_ENDPOINT, Membership, OrgLevel

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.authz.engine.evaluate import Evaluation

__all__ = ["Guardrails", "is_service_linked_role"]

_NO_ORGANIZATION = ("Anonymous", "Service")


def is_service_linked_role(arn: str, role_arn: str | None = None) -> bool:
    """IAM User Guide, "Create a service-linked role": a service-linked role's path is
    ``/aws-service-role/``, and its name starts with ``AWSServiceRoleFor``."""
    return bool(SERVICE_LINKED_ROLE_ARN.match(role_arn or arn) or SERVICE_LINKED_ROLE_ARN.match(arn)
                or SERVICE_LINKED_SESSION_ARN.match(arn))


class _Layer:
    """The scan of one guardrail: per level, the allowing statements; and the denying ones."""

    __slots__ = ("kind", "levels", "allows", "denies", "where")

    def __init__(self, kind: str, levels: Sequence[tuple[OrgLevel | None, Sequence[PolicySource]]]) -> None:
        self.kind = kind
        self.levels = levels
        self.allows: list[list[Hit]] = []
        self.denies: list[Hit] = []
        #: The level of each policy (by id), to name it in verdicts.
        self.where: dict[int, OrgLevel | None] = {}

    def scan(self, run: Evaluation) -> _Layer:
        for level, sources in self.levels:
            allows: list[Hit] = []
            for source in sources:
                self.where[id(source)] = level
                _scan_policy(run, source, self.kind != SCP, allows, self.denies)
            self.allows.append(allows)
        return self

    def blocked(self) -> tuple[OrgLevel | None, Sequence[PolicySource]] | None:
        """The first level (root first) where no policy allows, else None."""
        for (level, sources), allows in zip(self.levels, self.allows):
            if not allows:
                return level, sources
        return None

    def hits(self) -> list[Hit]:
        return [hit for allows in self.allows for hit in allows]


def _scan_policy(run: Evaluation, source: PolicySource, resource_based: bool, allows: list[Hit], denies: list[Hit]) -> None:
    request, context, missing = run.request, run.context, run.missing
    failing: list[Condition] = []
    for statement in run.policies.get(source.document, resource_based).candidates(run.action):
        kind = statement.applies_to_matched(request.resource, request.principal, context, missing, failing)
        if kind is not None:
            (allows if statement.allow else denies).append((source, statement, kind))
        elif failing:
            run.failed.extend((source, statement, condition) for condition in failing)
            failing.clear()


def _scp_applies(run: Evaluation, org: Membership | None) -> bool:
    principal = run.request.principal
    return (org is not None and not org.management and principal.type not in _NO_ORGANIZATION
            and not run.inputs.service_linked_role and not is_service_linked_role(principal.arn, principal.role_arn))


def _rcp_applies(run: Evaluation, org: Membership | None) -> bool:
    principal = run.request.principal
    service = run.action.partition(":")[0]
    return (org is not None and not org.management and service in RCP_SERVICES and run.action != "kms:retiregrant"
            and not run.inputs.service_linked_role and not is_service_linked_role(principal.arn, principal.role_arn))


class Guardrails:
    """What the guardrails of one request found (RCPs, SCPs, endpoint policy, in the order AWS
    looks at them)."""

    __slots__ = ("layers",)

    def __init__(self, run: Evaluation) -> None:
        inputs = run.inputs
        layers: list[_Layer] = []
        if _rcp_applies(run, inputs.resource_org):
            assert inputs.resource_org is not None
            layers.append(_Layer(RCP, [(level, level.rcps) for level in inputs.resource_org.levels]).scan(run))
        if _scp_applies(run, inputs.principal_org):
            assert inputs.principal_org is not None
            layers.append(_Layer(SCP, [(level, level.scps) for level in inputs.principal_org.levels]).scan(run))
        if inputs.vpc_endpoint is not None:
            layers.append(_Layer(VPC_ENDPOINT, [(None, (inputs.vpc_endpoint.source(),))]).scan(run))
        self.layers = layers

    @property
    def denies(self) -> list[Hit]:
        return [hit for layer in self.layers for hit in layer.denies]

    def explicit_deny(self, run: Evaluation) -> Decision | None:
        """The explicit deny of the first guardrail that denies (its statements, with the identity or
        resource policies' denies too), else None."""
        for layer in self.layers:
            if layer.denies:
                others = run.denies
                words = "; ".join(_describe(run, layer, hit) for hit in layer.denies)
                also = f"; also denied by {run.hits(others)}" if others else ""
                return run.decide(EXPLICIT_DENY, layer.kind, layer.denies + others,
                                  f"{run.request.action} on {run.request.resource} is explicitly denied by {words}{also}")
        return None

    def implicit_deny(self, run: Evaluation) -> Decision | None:
        """The denial of the first guardrail with a level where no policy allows, else None."""
        for layer in self.layers:
            blocked = layer.blocked()
            if blocked is not None:
                return run.decide(IMPLICIT_DENY, layer.kind, (), _not_allowed(run, layer, *blocked))
        return None

    def sides(self) -> dict[str, str]:
        """Each guardrail's decision on its own ({"scp": "allowed", ...}), for the layers that apply."""
        return {layer.kind: EXPLICIT_DENY if layer.denies else IMPLICIT_DENY if layer.blocked() else ALLOWED
                for layer in self.layers}

    def hits(self) -> list[Hit]:
        """Every guardrail statement that allowed (for an allowed decision's matched statements)."""
        return [hit for layer in self.layers for hit in layer.hits()]


_WHAT = {SCP: "SCP", RCP: "RCP", VPC_ENDPOINT: "VPC endpoint policy"}


def _describe(run: Evaluation, layer: _Layer, hit: Hit) -> str:
    level = layer.where.get(id(hit[0]))
    at = f" attached to {level.label}" if level is not None else ""
    return f"{run.hits([hit])}{at}"


def _not_allowed(run: Evaluation, layer: _Layer, level: OrgLevel | None, sources: Sequence[PolicySource]) -> str:
    if layer.kind == VPC_ENDPOINT:
        endpoint = run.inputs.vpc_endpoint
        return f"the policy of VPC endpoint {endpoint.id if endpoint else sources[0].name} does not allow {run.who()}"
    what = _WHAT[layer.kind]
    assert level is not None
    if not sources:
        return f"no {what} is attached to {level.label}, so none allows {run.who()} (every level must allow)"
    names = ", ".join(source.name for source in sources)
    plural = "s" if len(sources) > 1 else ""
    return (f"no {what} attached to {level.label} allows {run.who()} ({what}{plural} {names}; every level from the"
            " root down to the account must allow)")
