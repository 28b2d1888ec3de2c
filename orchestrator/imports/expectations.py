"""Expectations proposed by the engine: for each principal and each data action on each resource,
what the gate predicts for the imported desired state, with the deciding layer when denied.

The gate decides from a `DesiredWorld` (orchestrator/prove/desired_world.py), as `predictor()`
does on an endpoint or real AWS, with the calls `orchestrator/prove/calls.py` would make. No AWS
world is involved: `OfflineBackend` stands in for a backend where the context needs one, an
account id that is a documented placeholder (123456789012, the AWS documentation's example
account) and the scenario's region; a key's ARN is made from a name-derived id, a Decrypt's
ciphertext is a placeholder that the desired world maps back to its key. A role is proposed as a
principal when its trust policy trusts the account (assumed by orchestrate's identity) or names a
user of the template (`via` that user); a role only a service may assume is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from orchestrator.authz.gate import Gate
from orchestrator.model.policy import PrincipalMap, as_list
from orchestrator.model.resources import Role
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.calls import Probes, call_for
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.prove.prediction import predict
from orchestrator.resources.context import Context

PLACEHOLDER_ACCOUNT = "123456789012"
SESSION = "orchestrate-import"
#: The data actions proposed on each kind of resource.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt")
LAYERS = frozenset({"identity-policy", "key-policy", "explicit-deny", "key-state", "resource-policy",
                    "permissions-boundary", "grant", "trust-policy"})
PLACEHOLDER_VALUES = {"S": "example", "N": 1, "B": "ZXhhbXBsZQ=="}


@dataclass(frozen=True)
class OfflineBackend:
    """What a Context asks of a backend, offline: the placeholder account, the scenario's region,
    and orchestrate's identity there (its key-policy guard names it; users are not affected)."""

    region: str
    account_id: str = PLACEHOLDER_ACCOUNT

    def identity(self) -> dict[str, str]:
        return {"Arn": f"arn:aws:iam::{self.account_id}:user/orchestrate", "Account": self.account_id}

    def identity_in(self, account: str) -> dict[str, str]:
        return {"Arn": f"arn:aws:iam::{account}:user/orchestrate", "Account": account}


class OfflineProbes(Probes):
    """A placeholder ciphertext per key (and context): the desired world finds the key from it."""

    def ciphertext(self, name: str, operation: str = "Decrypt", context: dict[str, str] | None = None) -> bytes:
        if context:
            slot = (name, tuple(sorted(context.items())))
            return self.contextual.setdefault(slot, f"orchestrate-import:{name}:{sorted(context.items())}".encode())
        return self.blobs.setdefault(name, f"orchestrate-import:{name}".encode())

    def asymmetric(self, name: str, algorithm: str) -> bytes:
        """The same placeholder for an asymmetric key's ciphertext (no Encrypt is made offline)."""
        return self.ciphertext(name)


def offline_context(scenario: str, desired: DesiredState, region: str) -> Context:
    ctx = Context(OfflineBackend(region), scenario)  # type: ignore[arg-type]
    ctx.declare([desired])
    for name in desired.keys:
        key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"orchestrate:{scenario}:key:{name}")
        ctx.known[f"key:{name}"] = f"arn:aws:kms:{region}:{ctx.account_id('keys', name)}:key/{key_id}"
    return ctx


def propose(scenario: str, desired: DesiredState, region: str) -> list[dict[str, Any]]:
    """One expectation (as the scenario writes it) per principal, action and resource."""
    ctx = offline_context(scenario, desired, region)
    probes = OfflineProbes(ctx)
    world = DesiredWorld(ctx, desired, probes.blobs, probes.contextual)
    gate = Gate(region, world=world)
    proposed = []
    for principal, via in principals(desired):
        for action, resource, extra in requests(desired):
            expectation = Expectation.model_validate({"as": principal, "via": via, "action": action,
                                                      "resource": resource, "expect": "allowed", **extra})
            proposed.append(_predicted(ctx, desired, gate, probes, expectation))
    return proposed


def _predicted(ctx: Context, desired: DesiredState, gate: Gate, probes: Probes, expectation: Expectation) -> dict[str, Any]:
    spec = call_for(ctx, desired, expectation, probes)
    prediction = predict(gate, _principal_arn(ctx, expectation.principal), spec)
    written = expectation.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True,
                                     include={"principal", "via", "action", "resource", "key"})
    written["expect"] = "allowed" if prediction.allowed else "denied"
    if not prediction.allowed and prediction.layer in LAYERS:
        written["layer"] = prediction.layer
    return written


def _principal_arn(ctx: Context, principal: str) -> str:
    """The ARN the call is made by: the user's, or a session of the role (prove/sessions.py)."""
    if principal.startswith("role:"):
        role = principal.removeprefix("role:")
        return f"arn:aws:sts::{ctx.account_id('roles', role)}:assumed-role/{ctx.physical(role)}/{SESSION}"
    return ctx.arn(f"user:{principal}")


def principals(desired: DesiredState) -> list[tuple[str, str | None]]:
    """Each user, then each role someone of the scenario can assume (`via` the user it trusts)."""
    found: list[tuple[str, str | None]] = [(name, None) for name in desired.users]
    for name, role in desired.roles.items():
        trusted = _trusted(role)
        users = [value.removeprefix("user:") for value in trusted
                 if value.startswith("user:") and value.removeprefix("user:") in desired.users]
        if "account" in trusted or users:
            found.append((f"role:{name}", None if "account" in trusted else users[0]))
    return found


def _trusted(role: Role) -> list[str]:
    """The AWS principals the role's trust policy allows (IAM User Guide, "Role terms and concepts")."""
    trusted: list[str] = []
    for statement in role.trust_policy.statements():
        if statement.effect == "Allow" and isinstance(statement.principal, PrincipalMap) and statement.principal.aws:
            trusted += as_list(statement.principal.aws)
    return trusted


def requests(desired: DesiredState) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, resource, extra fields) for every data action on every resource."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for name, table in desired.tables.items():
        key = table.items[0] if table.items else {a.name: PLACEHOLDER_VALUES[a.type] for a in table.key_attributes()}
        key = {a.name: key.get(a.name, PLACEHOLDER_VALUES[a.type]) for a in table.key_attributes()}
        found += [(action, f"table:{name}", {"key": key}) for action in TABLE_ACTIONS]
    for name, key_declared in desired.keys.items():
        if key_declared.usage == "ENCRYPT_DECRYPT":
            found += [(action, f"key:{name}", {}) for action in KEY_ACTIONS]
    for name, bucket in desired.buckets.items():
        found.append(("s3:ListBucket", f"bucket:{name}", {}))
        found += [("s3:GetObject", f"object:{name}/{seeded.key}", {}) for seeded in bucket.objects[:1]]
    return found
