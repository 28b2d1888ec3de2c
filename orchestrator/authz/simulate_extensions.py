"""``orchestrate simulate``'s extension fields: what SimulateCustomPolicy cannot be given.

README, "simulate", documents the shapes:

* ``ServiceControlPolicies``: the SCPs of the caller's account, one entry per level, root first and
  the account last; an entry is a list of policy texts or ``{"Id": "ou-...", "Policies": [...]}``.
  Given, the caller's account is a member of the organization. Nothing is attached for you: a level
  without an allowing SCP denies (Organizations User Guide, "SCP evaluation"; FullAWSAccess can be
  detached).
* ``ResourceControlPolicies``: the RCPs of the resource owner's account, the same shape;
  ``RCPFullAWSAccess`` is added at every level, as AWS attaches it and it cannot be detached
  (Organizations User Guide, "RCP evaluation").
* ``OrganizationId`` (default ``o-exampleorg``) and ``ManagementAccount`` (an account id: SCPs do
  not restrict its principals, RCPs not its resources).
* ``SessionPolicy``: the session policy of a role session (IAM User Guide, "Session policies").
* ``VpcEndpoint``: ``{"Id": "vpce-...", "VpcId": "vpc-...", "Policy": "..."}``: the request goes
  through that endpoint (PrivateLink Guide, "Control access to VPC endpoints using endpoint
  policies"); no ``Policy``: the default endpoint policy, full access.
* ``CallerArn`` may also be ``anonymous`` (an unsigned request) or an AWS service principal such
  as ``cloudtrail.amazonaws.com``.

Nothing heavy is imported (simulate's start-up).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import (ACCOUNT, RCP, RCP_FULL_AWS_ACCESS, ROOT, SCP, UNIT, VPC_ENDPOINT,
                                                    Membership, OrgLevel, VpcEndpoint)
from orchestrator.authz.engine.request import ANONYMOUS, Principal, anonymous_principal, service_principal

__all__ = ["Extensions", "extension_principal", "SOURCE_TYPES"]

DEFAULT_ORGANIZATION = "o-exampleorg"
DEFAULT_ENDPOINT = "vpce-0example"
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
#: ``SourcePolicyType`` of a matched statement, by policy kind (AWS's own are "IAM Policy" and
#: "Resource Policy"; these name the policies SimulateCustomPolicy has no field for).
SOURCE_TYPES = {SCP: "Service Control Policy", RCP: "Resource Control Policy", VPC_ENDPOINT: "VPC Endpoint Policy",
                "session": "Session Policy"}
_RCP_FULL = PolicySource(RCP, "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS)

#: Checks one policy text (raises simulate's InputError): (text, resource-based, parameter name).
Check = Callable[[str, bool, str], None]


def extension_principal(caller: str | None) -> Principal | None:
    """The caller when ``CallerArn`` is ``anonymous`` or a service principal, else None."""
    if caller == ANONYMOUS:
        return anonymous_principal()
    if caller is not None and _SERVICE.match(caller):
        return service_principal(caller)
    return None


def _kind_of(level_id: str | None, index: int, count: int) -> str:
    """A level's kind by its Id (``r-``, ``ou-``, an account id), else by its place: the first is the
    root, the last the account (when there are more than one), the others units."""
    if level_id:
        if level_id.startswith("r-"):
            return ROOT
        if level_id.startswith("ou-"):
            return UNIT
        if _ACCOUNT_ID.match(level_id):
            return ACCOUNT
    return ROOT if index == 1 else ACCOUNT if index == count else UNIT


class Extensions:
    """The extension fields of one input document, checked."""

    __slots__ = ("principal_org", "resource_org", "session", "endpoint", "texts")

    def __init__(self, document: Mapping[str, Any], principal: Principal, owner: str | None, check: Check,
                 error: type[Exception]) -> None:
        self.texts: dict[str, str] = {}
        org_id = document.get("OrganizationId", DEFAULT_ORGANIZATION)
        management = document.get("ManagementAccount")
        if not isinstance(org_id, str) or not org_id.startswith("o-"):
            raise error("OrganizationId must be an organization id like o-a1b2c3d4e5")
        if management is not None and not (isinstance(management, str) and _ACCOUNT_ID.match(management)):
            raise error("ManagementAccount must be a 12-digit account id")
        account = principal.account
        self.principal_org = self._membership(document, "ServiceControlPolicies", SCP, org_id, account, management,
                                              check, error)
        resource_account = owner or account
        self.resource_org = self._membership(document, "ResourceControlPolicies", RCP, org_id, resource_account,
                                             management, check, error)
        self.session = self._policy(document, "SessionPolicy", "SessionPolicy", "session", False, check, error)
        self.endpoint = self._endpoint(document, check, error)

    def _policy(self, document: Mapping[str, Any], key: str, name: str, kind: str, resource_based: bool,
                check: Check, error: type[Exception]) -> PolicySource | None:
        text = document.get(key)
        if text is None:
            return None
        if not isinstance(text, str):
            raise error(f"{name} must be a policy document as a JSON string")
        check(text, resource_based, name)
        self.texts[name] = text
        return PolicySource(kind, name, text)

    def _membership(self, document: Mapping[str, Any], name: str, kind: str, org_id: str, account: str,
                    management: str | None, check: Check, error: type[Exception]) -> Membership | None:
        raw = document.get(name)
        if raw is None:
            return None
        if not isinstance(raw, list) or not raw:
            raise error(f"{name} must be a non-empty list of levels, root first, each a list of policies")
        levels = tuple(self._level(entry, index, len(raw), name, kind, account, check, error)
                       for index, entry in enumerate(raw, start=1))
        return Membership(org_id, levels, management=management is not None and management == account)

    def _level(self, entry: Any, index: int, count: int, name: str, kind: str, account: str, check: Check,
               error: type[Exception]) -> OrgLevel:
        where = f"{name}.{index}"
        level_id, texts = None, entry
        if isinstance(entry, Mapping):
            level_id, texts = entry.get("Id"), entry.get("Policies", [])
            if level_id is not None and not isinstance(level_id, str):
                raise error(f"{where}: Id must be a string")
        if not isinstance(texts, list) or any(not isinstance(text, str) for text in texts):
            raise error(f"{where} must be a list of policy documents as JSON strings")
        sources = []
        for number, text in enumerate(texts, start=1):
            check(text, kind == RCP, f"{where}.{number}")
            self.texts[f"{where}.{number}"] = text
            sources.append(PolicySource(kind, f"{where}.{number}", text))
        if kind == RCP:
            sources.append(_RCP_FULL)
        level_kind = _kind_of(level_id, index, count)
        default_id = {ROOT: "r-exam", UNIT: f"ou-exam-level{index:03d}", ACCOUNT: account}[level_kind]
        policies = tuple(sources)
        return OrgLevel(level_kind, level_id or where, level_id or default_id,
                        scps=policies if kind == SCP else (), rcps=policies if kind == RCP else ())

    def _endpoint(self, document: Mapping[str, Any], check: Check, error: type[Exception]) -> VpcEndpoint | None:
        raw = document.get("VpcEndpoint")
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or set(raw) - {"Id", "VpcId", "Policy"}:
            raise error('VpcEndpoint must be an object with "Id", "VpcId" and "Policy" (all optional)')
        endpoint_id, vpc = raw.get("Id", DEFAULT_ENDPOINT), raw.get("VpcId", "")
        if not isinstance(endpoint_id, str) or not isinstance(vpc, str):
            raise error("VpcEndpoint Id and VpcId must be strings")
        policy = self._policy(raw, "Policy", "VpcEndpoint.Policy", VPC_ENDPOINT, True, check, error)
        return VpcEndpoint(endpoint_id, vpc, policy)
