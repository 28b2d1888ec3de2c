"""The organization around a scenario's accounts, and the VPC endpoints its requests may go through.

```yaml
organization:
  management: home                    # the management account (default: home)
  outside: [partner]                  # scenario accounts that are not members (default: none)
  units:                              # organizational units, a tree under the root
    prod: {accounts: [prod]}          # parent: root (the default)
    payments: {parent: prod, accounts: [pay]}
  detach_full_aws_access: [ou:sandbox]  # FullAWSAccess is attached everywhere else
  scps:
    NoKeyDeletion: {targets: [ou:prod], document: {Statement: [...]}}
  rcps:
    OrgOnly: {targets: [root], document: {Statement: [...]}}
vpc_endpoints:
  s3-only: {service: s3, vpc: main, policy: {Statement: [...]}}
```

Every scenario account that is not `outside` is a member; one that no unit lists sits directly
under the root. AWS's defaults (Organizations User Guide, "SCP evaluation" and "RCP evaluation"):
the AWS managed SCP `FullAWSAccess` is attached to the root, every unit and every member account
unless `detach_full_aws_access` names the target (AWS lets it be detached, as long as another
SCP stays attached: "Every root, OU, and account must have at least one SCP attached"), and the RCP
`RCPFullAWSAccess` is attached everywhere, always ("You cannot detach this policy"). A target is
`root`, `ou:UNIT` or `account:NAME`. What AWS refuses (each policy type's syntax, its size and
attachment quotas, the unit tree) is checked by orchestrator/loader/organization_checks.py.

References. In any policy of the scenario, `organization` as a value of `aws:PrincipalOrgID` or
`aws:ResourceOrgID` stands for the organization's id, and `ou:UNIT` as a value of
`aws:PrincipalOrgPaths` or `aws:ResourceOrgPaths` for the unit's path, `o-ORG/r-ROOT/ou-.../ou-UNIT/`
(IAM User Guide, "AWS global condition context keys": an account's path ends with its parent's id
and `/`); `ou:UNIT/REST` is that path followed by REST (`ou:prod/*`: anything at or below prod).

Ids. The embedded backend's organization takes ids derived from the scenario's name, so the same
scenario always has the same ids and a policy resolved before apply says what the world will say
(:class:`OrganizationIds`): the organization `o-` + the first 10 hex digits of
sha256("organization", scenario), the root `r-` + 4 of sha256("root", scenario), a unit
`ou-<root's 4>-` + 8 of sha256("unit", scenario, unit), an endpoint `vpce-` + 17 of
sha256("vpc-endpoint", scenario, endpoint) and a VPC named rather than given by id `vpc-` + 17 of
sha256("vpc", scenario, name) (each argument joined by NUL). They fit AWS's patterns (Organizations
API Reference, "Organization", "Root", "OrganizationalUnit": `^o-[a-z0-9]{10,32}$`,
`^r-[0-9a-z]{4,32}$`, `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`). Where the ids are observed (real AWS),
an :class:`OrganizationIds` made from the observed ones takes their place (the organization
reconciler, orchestrator/resources/organization.py, does so as it reads one that exists).

This module holds the models and pure functions over plain documents; orchestrator/prove/organization.py
turns a desired state into the engine's inputs.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Mapping

from pydantic import BaseModel, Field, field_validator

from orchestrator.model.policy import STRICT, PolicyDocument, PrincipalPolicyDocument, as_list, base_operator

__all__ = [
    "Organization", "Unit", "GuardrailPolicy", "VpcEndpointSpec", "OrganizationIds", "ROOT_TARGET",
    "ORG_ID_KEYS", "ORG_PATH_KEYS", "ORGANIZATION_REFERENCE", "UNIT_PREFIX", "ENDPOINT_SERVICES",
    "resolve_org_references", "org_references", "target_kind", "reresolve_org_ids", "unknown_unit_id", "UNKNOWN",
]

#: Organizations API Reference, CreateOrganizationalUnit: Name is 1-128 characters. Kept to the
#: characters a reference (`ou:NAME`, `ou:NAME/*`) can carry: no `/`, `:` or `,`.
UnitName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=@-]{1,128}$")]
#: A scenario account by name: `home` or a name under `accounts:`.
AccountRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
#: Organizations API Reference, CreatePolicy: Name is 1-128 characters; kept to a scenario name's.
PolicyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=,@-]{1,128}$")]
ROOT_TARGET = "root"
UNIT_PREFIX = "ou:"
ACCOUNT_PREFIX = "account:"
#: Where an SCP or RCP is attached: the root, a unit or a member account.
Target = Annotated[str, Field(pattern=r"^(root|ou:[A-Za-z0-9_.+=@-]{1,128}|account:[A-Za-z0-9_-]{1,64})$")]
#: A unit's parent: the root or another unit.
Parent = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=@-]{1,128}$")]

#: The condition keys whose value `organization` names the organization's id, and those whose
#: values `ou:UNIT` name a unit's path (IAM User Guide, "AWS global condition context keys").
ORG_ID_KEYS = frozenset({"aws:principalorgid", "aws:resourceorgid"})
ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:resourceorgpaths"})
ORGANIZATION_REFERENCE = "organization"

#: The services a scenario's VPC endpoint may front (the services of its expectations' actions).
EndpointService = Literal["s3", "kms", "dynamodb", "sts"]
ENDPOINT_SERVICES = ("s3", "kms", "dynamodb", "sts")
#: A VPC by id (`vpc-` and 8 or 17 hex digits) or by a name of the scenario's own (not `vpc-...`).
VpcRef = Annotated[str, Field(pattern=r"^(vpc-[0-9a-f]{8}|vpc-[0-9a-f]{17}|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")]
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")


class Strict(BaseModel):
    model_config = STRICT


class Unit(Strict):
    """An organizational unit: its parent (the root or another unit) and the accounts directly in it."""

    parent: Parent = Field(ROOT_TARGET, description="`root` (the default) or the name of another unit")
    accounts: list[AccountRef] = Field(
        default_factory=list, description="scenario accounts directly in this unit (`home` or names of `accounts:`)")
    description: str | None = None


class GuardrailPolicy(Strict):
    """A service control policy or a resource control policy, and where it is attached."""

    description: str | None = None
    targets: list[Target] = Field(
        default_factory=list, description="where it is attached: `root`, `ou:UNIT` or `account:NAME` (none: the"
        " policy exists, attached nowhere; a state may attach it)")
    document: PolicyDocument


class Organization(Strict):
    """The AWS Organizations organization the scenario's accounts belong to (module docstring)."""

    management: AccountRef = Field(
        "home", description="the management account (default home); SCPs and RCPs never restrict it"
        " (Organizations User Guide, \"Service control policies (SCPs)\", \"Resource control policies (RCPs)\")")
    outside: list[AccountRef] = Field(
        default_factory=list, description="scenario accounts that are not members of the organization")
    units: dict[UnitName, Unit] = Field(
        default_factory=dict, description="organizational units by name; an account in no unit sits under the root")
    detach_full_aws_access: list[Target] = Field(
        default_factory=list, description="targets the AWS managed SCP FullAWSAccess is detached from (it is attached"
        " to every other target; a target must keep at least one SCP). RCPFullAWSAccess cannot be detached")
    scps: dict[PolicyName, GuardrailPolicy] = Field(
        default_factory=dict, description="service control policies by name (Organizations User Guide, \"SCP syntax\")")
    rcps: dict[PolicyName, GuardrailPolicy] = Field(
        default_factory=dict, description="resource control policies by name (Organizations User Guide, \"RCP syntax\")")

    def members(self, accounts: Mapping[str, str]) -> list[str]:
        """The member accounts by name, home first: every scenario account not `outside`."""
        return [name for name in ("home", *accounts) if name not in self.outside]

    def unit_of(self, account: str) -> str | None:
        """The unit an account is directly in (None: under the root)."""
        return next((name for name, unit in self.units.items() if account in unit.accounts), None)

    def chain(self, unit: str | None) -> list[str]:
        """The units from the root down to ``unit`` (itself last); stops at a cycle or an unknown parent
        (the loader refuses both)."""
        chain: list[str] = []
        while unit is not None and unit in self.units and unit not in chain:
            chain.append(unit)
            parent = self.units[unit].parent
            unit = None if parent == ROOT_TARGET else parent
        return chain[::-1]

    def full_aws_access_at(self, target: str) -> bool:
        return target not in self.detach_full_aws_access


class VpcEndpointSpec(Strict):
    """A VPC interface or gateway endpoint an expectation's request may go through (`vpc_endpoint: NAME`)."""

    service: EndpointService = Field(description="the service it fronts: s3, kms, dynamodb or sts")
    vpc: VpcRef = Field(description="the VPC it is in: an id (vpc-...) or a name of the scenario's own")
    policy: PrincipalPolicyDocument | None = Field(
        None, description="the endpoint policy (absent: AWS's default, full access); each statement names its"
        " Principal (AWS PrivateLink Guide, \"Control access to VPC endpoints using endpoint policies\")")
    account: AccountRef | None = Field(None, description="the account it lives in (default home)")

    @field_validator("vpc")
    @classmethod
    def _id_or_name(cls, value: str) -> str:
        """EC2 API Reference, "Vpc": a VPC id is `vpc-` and 8 or 17 hex digits; a name that looks like
        one would be taken for an id."""
        if value.startswith("vpc-") and not _VPC_ID.match(value):
            raise ValueError(f"{value!r} is neither a VPC id (vpc- and 8 or 17 hex digits) nor a name (a name does"
                             " not start with vpc-)")
        return value


def target_kind(target: str) -> tuple[str, str]:
    """`root` -> ("root", ""), `ou:prod` -> ("ou", "prod"), `account:dev` -> ("account", "dev")."""
    if target == ROOT_TARGET:
        return ROOT_TARGET, ""
    kind, _, name = target.partition(":")
    return kind, name


#: How a plan shows an id AWS draws only when it creates the organization (Terraform's wording).
UNKNOWN = "(known after apply)"


def unknown_unit_id(name: str) -> str:
    """How a plan shows the id of a unit apply is yet to create."""
    return f"ou-{UNKNOWN[:-1]}: {name})"


def _hex(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class OrganizationIds:
    """The ids of an organization's parts (module docstring, "Ids")."""

    organization: str
    root: str
    units: Mapping[str, str] = field(default_factory=dict)
    scenario: str = ""

    @classmethod
    def embedded(cls, scenario: str, units: Any = ()) -> OrganizationIds:
        """The ids the embedded backend gives the scenario's organization (derived from its name)."""
        root = _hex("root", scenario)[:4]
        return cls("o-" + _hex("organization", scenario)[:10], "r-" + root,
                   {name: f"ou-{root}-{_hex('unit', scenario, name)[:8]}" for name in units}, scenario)

    @classmethod
    def unknown(cls, scenario: str, units: Any = ()) -> OrganizationIds:
        """Ids that are not known yet: the organization is to be created, and AWS (moto too) draws
        its ids then. A plan shows them as Terraform shows such values, "(known after apply)"."""
        return cls(f"o-{UNKNOWN}", f"r-{UNKNOWN}", {name: unknown_unit_id(name) for name in units}, scenario)

    def unit_path(self, organization: Organization, unit: str) -> str:
        """`o-ORG/r-ROOT/ou-.../ou-UNIT/`: the path of an account directly in ``unit``."""
        units = (self.units.get(name) or unknown_unit_id(name) for name in organization.chain(unit))  # a unit apply creates
        return "".join(f"{part}/" for part in [self.organization, self.root, *units])

    def endpoint(self, name: str) -> str:
        return "vpce-" + _hex("vpc-endpoint", self.scenario, name)[:17]

    def vpc(self, vpc: str) -> str:
        """A VPC's id: as given, or made from the scenario's name for it."""
        return vpc if _VPC_ID.match(vpc) else "vpc-" + _hex("vpc", self.scenario, vpc)[:17]


def org_references(key: str, values: Any) -> list[tuple[int | None, str]]:
    """The organization references among a condition's values (index None: a single value):
    `organization` under an org id key, `ou:UNIT[/REST]` under an org path key."""
    lowered = key.lower()
    found: list[tuple[int | None, str]] = []
    for index, value in enumerate(as_list(values)):
        if not isinstance(value, str):
            continue
        if (lowered in ORG_ID_KEYS and value == ORGANIZATION_REFERENCE) or (
                lowered in ORG_PATH_KEYS and value.startswith(UNIT_PREFIX)):
            found.append((index if isinstance(values, list) else None, value))
    return found


def unit_reference(value: str) -> tuple[str, str]:
    """`ou:prod/*` -> ("prod", "*"); `ou:prod` -> ("prod", "")."""
    name, _, rest = value.removeprefix(UNIT_PREFIX).partition("/")
    return name, rest


def resolve_org_references(document: Mapping[str, Any], organization: Organization | None,
                           ids: OrganizationIds | None) -> dict[str, Any]:
    """A plain policy document with its organization references replaced by the ids (a copy; as
    given when there is no organization or the document names none)."""
    resolved = copy.deepcopy(dict(document))
    if organization is None or ids is None:
        return resolved
    statements = resolved.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for operator, block in (statement.get("Condition") or {}).items() if isinstance(statement, dict) else ():
            if base_operator(operator) is None or not isinstance(block, dict):
                continue
            for key, values in block.items():
                block[key] = _resolved_values(key, values, organization, ids)
    return resolved


def _resolved_values(key: str, values: Any, organization: Organization, ids: OrganizationIds) -> Any:
    references = {index for index, _ in org_references(key, values)}
    if not references:
        return values

    def one(value: str) -> str:
        if value == ORGANIZATION_REFERENCE:
            return ids.organization
        name, rest = unit_reference(value)
        return ids.unit_path(organization, name) + rest if name in organization.units else value

    if isinstance(values, list):
        return [one(value) if index in references else value for index, value in enumerate(values)]
    return one(values)


def reresolve_org_ids(document: Mapping[str, Any], old: OrganizationIds, new: OrganizationIds) -> dict[str, Any]:
    """A plain policy document whose organization references were resolved with ``old`` ids, with
    those ids replaced by ``new`` ones (a copy): the organization's id under an org id key, each id
    of a path (`o-.../r-.../ou-.../`) under an org path key. The organization reconciler needs it:
    it resolves its SCPs and RCPs before the organization it creates has ids
    (orchestrator/resources/organization.py)."""
    renamed = {old.organization: new.organization, old.root: new.root,
               **{old.units[unit]: new.units[unit] for unit in old.units if unit in new.units}}
    renamed = {stale: observed for stale, observed in renamed.items() if stale != observed}
    resolved = copy.deepcopy(dict(document))
    statements = resolved.get("Statement", [])
    for statement in (statements if isinstance(statements, list) else [statements]) if renamed else ():
        for operator, block in (statement.get("Condition") or {}).items() if isinstance(statement, dict) else ():
            if base_operator(operator) is None or not isinstance(block, dict):
                continue
            for key, values in block.items():
                block[key] = _renamed_values(key.lower(), values, renamed)
    return resolved


def _renamed_values(key: str, values: Any, renamed: Mapping[str, str]) -> Any:
    def one(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if key in ORG_ID_KEYS:
            return renamed.get(value, value)
        if key in ORG_PATH_KEYS:
            return "/".join(renamed.get(part, part) for part in value.split("/"))
        return value

    return [one(value) for value in values] if isinstance(values, list) else one(values)
