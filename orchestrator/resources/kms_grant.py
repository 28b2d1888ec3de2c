"""KMS grants on the scenario's keys (`keys.NAME.grants`), reconciled by name.

AWS KMS Developer Guide, "Grants in AWS KMS"; KMS API Reference: CreateGrant, ListGrants,
RevokeGrant. One entity per scenario key (address `kms_grant.KEY`) whose one property, `grants`,
maps each grant's name to its grantee, operations, retiring principal and constraints. A grant
cannot be changed in place, so a changed grant is revoked and created again.

Revoke, not retire: orchestrate administers the key, and RevokeGrant is the administrator's way
(authorized by kms:RevokeGrant in the key policy, which the lockout guard grants orchestrate);
RetireGrant is meant for the grant's retiring principal or grantee, whom orchestrate is not.

A key without grants, declaring none, is `vacant`: no change and no drift (plans stay as they
were before grants existed). Every grant on the key is read (ListGrants by key), so a grant made
out of band shows as an added entry (keyed by its Name, else its GrantId) in drift and is revoked by the next apply.
Grants made by AWS services for themselves (a grantee `*.amazonaws.com`, e.g. DynamoDB's for a
table encrypted under the key) are AWS's, not the scenario's: they are left out.
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.model.names import GRANT_PREFIX
from orchestrator.model.resources import KeyGrant
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code
from orchestrator.resources.context import RunContext
from orchestrator.resources.kms_key import KmsKey
from orchestrator.resources.propagation import until_propagated

#: CreateGrant's Name for a scenario grant: the prefix keeps ours apart from names made by hand.
NAME_PREFIX = GRANT_PREFIX


def grant_name(ctx: RunContext, name: str) -> str:
    return f"{NAME_PREFIX}{ctx.physical(name)}"


def _principal(ctx: RunContext, value: str | None) -> str | None:
    return None if value is None else ctx.arn(value)


def desired_grant(ctx: RunContext, grant: KeyGrant) -> dict[str, Any]:
    """The normalised properties of one declared grant (scenario references resolved)."""
    constraints = None
    if grant.constraints is not None:
        constraints = {k: dict(v) for k, v in grant.constraints.model_dump(exclude_none=True).items()}
    return {
        "grantee": _principal(ctx, grant.grantee),
        "operations": sorted(set(grant.operations)),
        "retiring_principal": _principal(ctx, grant.retiring_principal),
        "constraints": constraints or None,
    }


def _observed_grant(grant: dict[str, Any]) -> dict[str, Any]:
    raw = grant.get("Constraints") or {}
    constraints = {field: dict(raw[api]) for field, api in (("encryption_context_equals", "EncryptionContextEquals"),
                                                          ("encryption_context_subset", "EncryptionContextSubset"))
                   if raw.get(api) is not None}
    return {
        "grantee": grant.get("GranteePrincipal"),
        "operations": sorted(set(grant.get("Operations") or [])),
        "retiring_principal": grant.get("RetiringPrincipal"),
        "constraints": constraints or None,
    }


class KmsGrant:
    kind: ClassVar[str] = "kms_grant"
    section: ClassVar[str] = "keys"
    permissions: ClassVar[tuple[str, ...]] = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        # every scenario key: an out-of-band grant on a key that declares none is drift too
        return list(desired.keys)

    @staticmethod
    def vacant(desired: dict[str, Any]) -> bool:
        """No grant declared: with none on the key either, there is nothing to plan or drift."""
        return not desired["grants"]

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        grants = desired.keys[name].grants
        return {"grants": {grant_name(ctx, g): desired_grant(ctx, grants[g]) for g in sorted(grants)}}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        key_id = KmsKey().find(ctx, name)
        if key_id is None:
            return None
        kms = ctx.backend.client("kms")
        try:
            listed = [g for page in kms.get_paginator("list_grants").paginate(KeyId=key_id) for g in page["Grants"]]
        except Exception as error:
            # `lockout: allow` may leave orchestrate without kms:ListGrants on the key: a key that
            # declares no grants is then not observed for grants (one that declares some fails).
            if error_code(error) != "AccessDeniedException" or (desired or {}).get("grants"):
                raise
            return None
        grants: dict[str, dict[str, Any]] = {}
        ids: dict[str, list[str]] = {}
        for grant in listed:
            if str(grant.get("GranteePrincipal", "")).endswith(".amazonaws.com"):
                continue  # made by an AWS service for itself (see the module docstring)
            label = grant.get("Name") or grant["GrantId"]
            grants[label] = _observed_grant(grant)
            ids.setdefault(label, []).append(grant["GrantId"])
        ctx.cache[("kms_grant_ids", name)] = ids
        ctx.cache[("kms_grant_key", name)] = key_id
        if not grants:
            return None  # nothing to reconcile: `vacant` when none are declared either
        # ctx.known is the key reconciler's to write: a plan that replaces the key forgets its ARN
        return Observed({"grants": grants}, owned=True, physical_id=key_id)

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        self.update(ctx, name, {"grants": {}}, after)

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Revoke each grant that is not as declared (changed, undeclared), then create each
        declared grant that is missing or was revoked; an unchanged grant makes no call."""
        old, new = before.get("grants", {}), after["grants"]
        for label in sorted(old):
            if new.get(label) != old[label]:
                self._revoke(ctx, name, label)
        for label in sorted(new):
            if old.get(label) != new[label]:
                self._create(ctx, name, label, new[label])

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        for label in sorted(before.get("grants", {})):
            self._revoke(ctx, name, label)

    @staticmethod
    def _key_id(ctx: RunContext, name: str) -> str:
        """The key as apply knows it (a key just created or replaced), else the one read last
        (destroy revokes grants before it reads the key)."""
        known = ctx.known.get(f"key:{name}")
        return known.rpartition("/")[2] if known else ctx.cache[("kms_grant_key", name)]

    def _revoke(self, ctx: RunContext, name: str, label: str) -> None:
        kms = ctx.backend.client("kms")
        for grant_id in ctx.cache.get(("kms_grant_ids", name), {}).pop(label, []):
            kms.revoke_grant(KeyId=self._key_id(ctx, name), GrantId=grant_id)

    def _create(self, ctx: RunContext, name: str, label: str, grant: dict[str, Any]) -> None:
        """CreateGrant with Name: retried with the same parameters after a lost answer, KMS
        returns the original grant instead of a second one (KMS API Reference, CreateGrant, Name)."""
        params: dict[str, Any] = {"KeyId": self._key_id(ctx, name), "Name": label,
                                  "GranteePrincipal": grant["grantee"], "Operations": grant["operations"]}
        if grant["retiring_principal"]:
            params["RetiringPrincipal"] = grant["retiring_principal"]
        if grant["constraints"]:
            params["Constraints"] = {api: grant["constraints"][field]
                                     for field, api in (("encryption_context_equals", "EncryptionContextEquals"),
                                                        ("encryption_context_subset", "EncryptionContextSubset"))
                                     if field in grant["constraints"]}
        response = until_propagated(ctx, lambda: ctx.backend.client("kms").create_grant(**params))
        ctx.cache.setdefault(("kms_grant_ids", name), {}).setdefault(label, []).append(response["GrantId"])
