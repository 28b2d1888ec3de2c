"""The engine's view of a desired state, with no AWS world: a RunContext over a placeholder account,
placeholder ciphertexts, and the request each expectation would make.

The gate decides from a `DesiredWorld` (orchestrator/prove/desired_world.py), as `predictor()`
does on an endpoint or real AWS, with the calls `orchestrator/prove/calls.py` would make.
`OfflineBackend` stands in for a backend where the context needs one: an account id that is a
documented placeholder (123456789012, the AWS documentation's example account) and the
scenario's region; a key's ARN is made from a name-derived id, a Decrypt's ciphertext is a
placeholder that the desired world maps back to its key, and a Verify's signature (VerifyMac's
MAC) is a placeholder too: authorization does not read it (KMS Developer Guide, "Condition keys
for AWS KMS": only the key, the algorithm and the message type are decided on).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from orchestrator import arns
from orchestrator.authz.engine.evaluate import Engine
from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.authz.gate.core import Gate
from orchestrator.constants import DEFAULT_ACCOUNT
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.asymmetric_calls import MESSAGE, algorithm_of
from orchestrator.prove.calls import CallSpec, Probes, call_for, expectation_transport
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.prove.sessions import PLAIN, SessionShape, session_name_for, shape_of
from orchestrator.resources.context import RunContext

PLACEHOLDER_ACCOUNT = DEFAULT_ACCOUNT
SESSION = "orchestrate-analysis"


@dataclass(frozen=True)
class OfflineBackend:
    """What a RunContext asks of a backend, offline: the placeholder account, the scenario's region,
    and orchestrate's identity there (its key-policy guard names it; users are not affected)."""

    region: str
    account_id: str = PLACEHOLDER_ACCOUNT

    def identity(self) -> dict[str, str]:
        return self.identity_in(self.account_id)

    def identity_in(self, account: str) -> dict[str, str]:
        return {"Arn": arns.user_arn(account, "orchestrate"), "Account": account}


class OfflineProbes(Probes):
    """A placeholder ciphertext per key (and context): the desired world finds the key from it."""

    def ciphertext(self, name: str, operation: str = "Decrypt", context: dict[str, str] | None = None) -> bytes:
        if context:
            slot = (name, tuple(sorted(context.items())))
            return self.contextual.setdefault(slot, f"orchestrate-offline:{name}:{sorted(context.items())}".encode())
        return self.blobs.setdefault(name, f"orchestrate-offline:{name}".encode())

    def asymmetric(self, name: str, algorithm: str) -> bytes:
        """The same placeholder for an asymmetric key's ciphertext (no Encrypt is made offline)."""
        return self.ciphertext(name)


def offline_context(scenario: str, states: list[DesiredState], region: str) -> RunContext:
    """A RunContext that knows every state's entities, with a name-derived ARN for each key."""
    ctx = RunContext(OfflineBackend(region), scenario)  # type: ignore[arg-type]
    ctx.declare(states)
    for name in {name for desired in states for name in desired.keys}:
        key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"orchestrate:{scenario}:key:{name}")
        ctx.known[f"key:{name}"] = arns.key_arn(region, ctx.account_id("keys", name), str(key_id))
    return ctx


@dataclass
class OfflineEngine:
    """The gate over one desired state, and what it needs to build each expectation's request."""

    ctx: RunContext
    desired: DesiredState
    probes: OfflineProbes
    gate: Gate

    @classmethod
    def for_state(cls, ctx: RunContext, desired: DesiredState, engine: Engine | None = None) -> OfflineEngine:
        """``engine``: one shared by every state of one analysis (its decisions carry over)."""
        probes = OfflineProbes(ctx)
        world = DesiredWorld(ctx, desired, probes.blobs, probes.contextual)
        return cls(ctx, desired, probes, Gate(ctx.region, world=world, engine=engine))

    def call(self, expectation: Expectation) -> CallSpec:
        return offline_call(self.ctx, self.desired, expectation, self.probes)

    def principal_arn(self, principal: str, shape: SessionShape = PLAIN) -> str:
        """The caller's ARN; for `role:NAME` with a shape, that session's (the desired world then
        gives the gate its session policies, tags and source identity: prove/desired_world.py)."""
        arn = principal_arn(self.ctx, principal, shape)
        if not shape.plain and principal.startswith("role:"):
            self.gate.world.sessions[arn] = shape
        return arn

    def expectation_arn(self, expectation: Expectation) -> str:
        """The ARN the expectation's call is made by, with its session (prove/sessions.py)."""
        return self.principal_arn(expectation.principal, shape_of(self.ctx, expectation))


def offline_call(ctx: RunContext, desired: DesiredState, expectation: Expectation, probes: Probes) -> CallSpec:
    """The request the expectation makes (calls.call_for), with a placeholder signature or MAC
    where the real call would first have orchestrate sign (Verify) or compute a MAC (VerifyMac)."""
    operation = expectation.action.partition(":")[2]
    kind, _, name = expectation.resource.partition(":")
    if kind == "key" and name in desired.keys and operation in ("Verify", "VerifyMac"):
        key_arn = ctx.arn(f"key:{name}")
        algorithm = algorithm_of(desired.keys[name], expectation)
        if operation == "Verify":
            params: dict[str, Any] = {"KeyId": key_arn, "Message": MESSAGE, "MessageType": "RAW",
                                      "Signature": b"placeholder", "SigningAlgorithm": algorithm}
        else:
            params = {"KeyId": key_arn, "Message": MESSAGE, "Mac": b"placeholder", "MacAlgorithm": algorithm}
        transport = expectation_transport(ctx, desired, expectation)
        return CallSpec("kms", operation, "verify" if operation == "Verify" else "verify_mac", params,
                        None if transport.empty else transport)
    return call_for(ctx, desired, expectation, probes)


def principal_arn(ctx: RunContext, principal: str, shape: SessionShape = PLAIN) -> str:
    """The ARN the call is made by: the user's, or a session of the role (prove/sessions.py):
    named as apply names it, the expectation's session name or one made up per shape;
    ``anonymous`` for an unsigned request (the gate's name for it)."""
    if principal == ANONYMOUS:
        return ANONYMOUS
    if principal.startswith("role:"):
        role = principal.removeprefix("role:")
        name = session_name_for(SESSION, shape)
        return arns.assumed_role_arn(ctx.account_id("roles", role), ctx.physical(role), name)
    return ctx.arn(f"user:{principal}")
