"""Expectations proposed by the engine: for each principal and each data action on each resource,
what the gate predicts for the imported desired state, with the deciding layer when denied.

The data actions are the scenario language's (EXPECTATION_ACTIONS) that say who reads or writes
what: on a table GetItem, PutItem and Query; on a key those its usage takes (KMS Developer Guide,
"Key usage": Encrypt/Decrypt, Sign/Verify, GenerateMac/VerifyMac; loader/key_checks.py refuses the
others, as KMS would); on a bucket ListBucket, and GetObject and PutObject on its first seeded
object (the importer seeds one: resources.PROBE_OBJECT); on a role sts:AssumeRole, as each user
(who may become whom: the trust policy and the caller's identity policy together).

The engine decides offline, over the desired state (orchestrator/analysis/offline.py). A role is proposed as a
principal when its trust policy trusts the account (assumed by orchestrate's identity) or names a
user of the template (`via` that user); a role only a service may assume is left out.
"""

from __future__ import annotations

from typing import Any

from orchestrator.analysis.offline import PLACEHOLDER_ACCOUNT, OfflineBackend, OfflineEngine, offline_context
from orchestrator.loader.key_checks import key_action_problem
from orchestrator.model.policy import PrincipalMap, as_list
from orchestrator.model.resources import Role
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.prediction import predict

__all__ = ["PLACEHOLDER_ACCOUNT", "OfflineBackend", "principals", "propose", "requests"]
#: The data actions proposed on each kind of resource.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
#: KMS Developer Guide, "Key usage": the data actions of each KeyUsage (KEY_AGREEMENT's
#: DeriveSharedSecret is not in the scenario language).
KEY_ACTIONS = {"ENCRYPT_DECRYPT": ("kms:Decrypt", "kms:Encrypt"), "SIGN_VERIFY": ("kms:Sign", "kms:Verify"),
               "GENERATE_VERIFY_MAC": ("kms:GenerateMac", "kms:VerifyMac")}
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
ROLE_ACTIONS = ("sts:AssumeRole",)
LAYERS = frozenset({"identity-policy", "key-policy", "explicit-deny", "key-state", "resource-policy",
                    "permissions-boundary", "session-policy", "grant", "trust-policy"})
PLACEHOLDER_VALUES = {"S": "example", "N": 1, "B": "ZXhhbXBsZQ=="}


def propose(scenario: str, desired: DesiredState, region: str) -> list[dict[str, Any]]:
    """One expectation (as the scenario writes it) per principal, action and resource."""
    engine = OfflineEngine.for_state(offline_context(scenario, [desired], region), desired)
    proposed = []
    for principal, via in principals(desired):
        for action, resource, extra in requests(desired):
            if action in ROLE_ACTIONS and principal.startswith("role:"):
                continue  # who assumes a role is asked of users; chaining is the scenario author's to add
            expectation = Expectation.model_validate({"as": principal, "via": via, "action": action,
                                                      "resource": resource, "expect": "allowed", **extra})
            proposed.append(_predicted(engine, expectation))
    return proposed


def _predicted(engine: OfflineEngine, expectation: Expectation) -> dict[str, Any]:
    prediction = predict(engine.gate, engine.expectation_arn(expectation), engine.call(expectation))
    written = expectation.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True,
                                     include={"principal", "via", "action", "resource", "key"})
    written["expect"] = "allowed" if prediction.allowed else "denied"
    if not prediction.allowed and prediction.layer in LAYERS:
        written["layer"] = prediction.layer
    return written


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
        if table.create_only:  # only its dynamodb:CreateTable expectation acts on it
            continue
        key = table.items[0] if table.items else {a.name: PLACEHOLDER_VALUES[a.type] for a in table.key_attributes()}
        key = {a.name: key.get(a.name, PLACEHOLDER_VALUES[a.type]) for a in table.key_attributes()}
        found += [(action, f"table:{name}", {"key": key}) for action in TABLE_ACTIONS]
    for name, key_declared in desired.keys.items():
        found += [(action, f"key:{name}", {}) for action in KEY_ACTIONS.get(key_declared.usage, ())
                  if key_action_problem(name, key_declared, action) is None]
    for name, bucket in desired.buckets.items():
        found.append(("s3:ListBucket", f"bucket:{name}", {}))
        found += [(action, f"object:{name}/{seeded.key}", {}) for seeded in bucket.objects[:1] for action in OBJECT_ACTIONS]
    found += [(action, f"role:{name}", {}) for name in desired.roles for action in ROLE_ACTIONS]
    return found
