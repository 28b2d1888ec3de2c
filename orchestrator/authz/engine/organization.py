"""The organization around a request, and the VPC endpoint it goes through: engine inputs.

An account's place in an AWS Organizations organization is a :class:`Membership`: its levels from
the root, through each organizational unit, down to the account itself, each with the service
control policies (SCPs) and resource control policies (RCPs) attached *at that level*.  The engine
gets two of them (:class:`~orchestrator.authz.engine.inputs.PolicyInputs` ``principal_org`` and
``resource_org``): the caller's account's, whose SCPs cap the caller (Organizations User Guide,
"Service control policies (SCPs)": SCPs affect the principals of member accounts), and the
resource's account's, whose RCPs cap what may be done to the resource (Organizations User Guide,
"Resource control policies (RCPs)": RCPs apply to the resources of member accounts, whoever calls).
Both None (the default): no organization, and the engine decides exactly as it did before.

Levels hold documents as given: the engine adds nothing.  AWS attaches ``FullAWSAccess`` (SCP) and
``RCPFullAWSAccess`` (RCP) everywhere by default (Organizations User Guide, "SCP evaluation": "Every
root, OU, and account must have at least one SCP attached"; "RCP evaluation": RCPFullAWSAccess "is
automatically attached to the organization root, every OU, and every account ... You cannot detach
this policy"); whoever builds a Membership (a scenario's organization, simulate) attaches them:
:data:`FULL_AWS_ACCESS`, :data:`RCP_FULL_AWS_ACCESS`.

The request context keys the organization sets (IAM User Guide, "AWS global condition context
keys"): ``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` for a caller whose account is in an
organization, ``aws:ResourceOrgID`` and ``aws:ResourceOrgPaths`` for a resource whose account is.
A path is ``o-ORG/r-ROOT/ou-A/ou-B/``: the organization, the root and every unit down to the
account's parent, each followed by ``/`` (the page's example ``o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/
ou-ab12-22222222/``; the account itself is not part of it).  A request through a VPC endpoint
(:class:`VpcEndpoint`) carries ``aws:SourceVpce`` and ``aws:SourceVpc`` and not ``aws:SourceIp``
(same page: "If the request comes from a host that uses an Amazon VPC endpoint, then the
aws:SourceIp key is not available"; the VPC address is ``aws:VpcSourceIp``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from orchestrator.authz.engine.inputs import PolicySource

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.authz.engine.inputs import PolicyInputs
    from orchestrator.authz.engine.request import Request

__all__ = [
    "ROOT", "UNIT", "ACCOUNT", "SCP", "RCP", "VPC_ENDPOINT", "OrgLevel", "Membership", "VpcEndpoint",
    "FULL_AWS_ACCESS", "RCP_FULL_AWS_ACCESS", "DEFAULT_ENDPOINT_POLICY", "RCP_SERVICES",
    "with_organization_context", "has_guardrails",
]

#: The kinds of level, root first (Organizations User Guide, "SCP evaluation").
ROOT, UNIT, ACCOUNT = "root", "unit", "account"
#: Policy kinds (``PolicySource.kind``) and decision layers of the guardrails.
SCP, RCP, VPC_ENDPOINT = "scp", "rcp", "vpc-endpoint"

#: The AWS managed SCP attached everywhere by default (Organizations User Guide, "SCP evaluation").
FULL_AWS_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
#: The AWS managed RCP attached everywhere and never detachable (Organizations User Guide, "RCP evaluation").
RCP_FULL_AWS_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
#: VPC User Guide / PrivateLink Guide, "Control access to VPC endpoints using endpoint policies",
#: "Default endpoint policy": "The default endpoint policy grants full access to the endpoint".
DEFAULT_ENDPOINT_POLICY = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})

#: Organizations User Guide, "Resource control policies (RCPs)", "List of AWS services that support
#: RCPs": Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, Amazon ECR, Amazon OpenSearch
#: Serverless (service prefixes); RCPs do not apply to any other service's actions.
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss"})


@dataclass(frozen=True)
class OrgLevel:
    """One level of an account's path in its organization: the root, a unit, or the account itself.

    ``name`` is how verdicts name it (``root``, ``unit prod``, ``account dev``); ``id`` is its
    Organizations id (``r-ab12``, ``ou-ab12-11111111``, the account id), used in the org paths.
    ``scps``/``rcps``: the policies attached at this level (a set: one that allows is enough,
    Organizations User Guide, "SCP evaluation")."""

    kind: str
    name: str
    id: str = ""
    scps: tuple[PolicySource, ...] = ()
    rcps: tuple[PolicySource, ...] = ()

    @property
    def label(self) -> str:
        """e.g. "the root", "unit prod", "account dev"."""
        return "the root" if self.kind == ROOT else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Membership:
    """An account's place in an organization: ``levels`` root first, the account last.

    ``management``: the account is the organization's management account, whose principals SCPs
    never restrict (Organizations User Guide, "Service control policies (SCPs)", "Tasks and entities
    not restricted by SCPs") and whose resources RCPs never restrict ("Resource control policies
    (RCPs)": "RCPs don't affect resources in the management account")."""

    org_id: str
    levels: tuple[OrgLevel, ...] = ()
    management: bool = False

    def path(self) -> str:
        """``o-ORG/r-ROOT/ou-A/.../``: the org path of the account (its parent's entity path)."""
        parts = [self.org_id] + [level.id for level in self.levels if level.kind != ACCOUNT and level.id]
        return "".join(f"{part}/" for part in parts)


@dataclass(frozen=True)
class VpcEndpoint:
    """The VPC endpoint a request goes through: its id (``vpce-...``), its VPC's id and its policy
    (None: the default endpoint policy, full access)."""

    id: str
    vpc: str = ""
    policy: PolicySource | None = None

    def source(self) -> PolicySource:
        return self.policy if self.policy is not None else PolicySource(VPC_ENDPOINT, self.id, DEFAULT_ENDPOINT_POLICY)


def has_guardrails(inputs: PolicyInputs) -> bool:
    return inputs.principal_org is not None or inputs.resource_org is not None or inputs.vpc_endpoint is not None


def _keys(inputs: PolicyInputs) -> dict[str, Sequence[str]]:
    keys: dict[str, Sequence[str]] = {}
    if inputs.principal_org is not None:
        keys["aws:PrincipalOrgID"] = [inputs.principal_org.org_id]
        keys["aws:PrincipalOrgPaths"] = [inputs.principal_org.path()]
    if inputs.resource_org is not None:
        keys["aws:ResourceOrgID"] = [inputs.resource_org.org_id]
        keys["aws:ResourceOrgPaths"] = [inputs.resource_org.path()]
    if inputs.vpc_endpoint is not None:
        keys["aws:SourceVpce"] = [inputs.vpc_endpoint.id]
        if inputs.vpc_endpoint.vpc:
            keys["aws:SourceVpc"] = [inputs.vpc_endpoint.vpc]
    return keys


def with_organization_context(request: Request, inputs: PolicyInputs) -> Request:
    """``request`` with the keys the organization and the endpoint set (module docstring); a key the
    caller gave already is kept (simulate's ContextEntries, as for ``aws:ResourceAccount``).  An
    anonymous caller is in no organization: no principal org keys.  Through an endpoint the
    request's public ``aws:SourceIp`` is gone and becomes ``aws:VpcSourceIp`` unless given."""
    keys = _keys(inputs)
    if request.principal.type in ("Anonymous", "Service"):
        keys.pop("aws:PrincipalOrgID", None)
        keys.pop("aws:PrincipalOrgPaths", None)
    given = {key.lower(): key for key in request.context}
    context = {key: value for key, value in request.context.items()}
    if inputs.vpc_endpoint is not None and "aws:sourceip" in given:
        address = context.pop(given.pop("aws:sourceip"))
        if "aws:vpcsourceip" not in given:
            keys["aws:VpcSourceIp"] = address
    added = {key: value for key, value in keys.items() if key.lower() not in given}
    if not added and len(context) == len(request.context):
        return request
    return replace(request, context={**context, **added})
