"""Expectations as real calls made with the principal's own credentials, judged against what
was expected and against the engine's prediction for the same request.

The outcome is the API's own answer. The deciding layer is read from AWS's error (its code and
the documented wording of access-denied messages, IAM User Guide "Troubleshoot access denied
error messages"); the engine's explanation supplies the reason. Where the engine predicted
otherwise than AWS answered, the verdict is a model gap.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Iterator

from orchestrator.authz.transport import Transport, transport_headers
from orchestrator.prove.asymmetric_calls import VERIFICATION_CODES, VerificationFailed, admin_kms
from orchestrator.prove.calls import CallSpec
from orchestrator.prove.s3_calls import HEAD_OPERATIONS

DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "KMSAccessDeniedException",
    "DisabledException", "KMSInvalidStateException", "KMS.DisabledException", "KMS.KMSInvalidStateException",
    "KMSDisabledException", "KMSInvalidStateFault", "NotAuthorized",
})
KEY_STATE_CODES = frozenset({"DisabledException", "KMSInvalidStateException", "KMS.DisabledException", "KMS.KMSInvalidStateException", "KMSDisabledException"})


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    code: str | None = None
    message: str | None = None
    #: No access decision: the call could not be prepared, or failed for another reason.
    errored: bool = False

    @property
    def word(self) -> str:
        return "error" if self.errored else "allowed" if self.allowed else "denied"


@dataclass(frozen=True)
class Prediction:
    allowed: bool
    layer: str | None
    reason: str
    code: str | None = None


@dataclass
class Verdict:
    state: str
    index: int
    principal: str
    action: str
    resource: str
    expected: str
    actual: Outcome
    predicted: Prediction | None
    layer: str | None
    reason: str
    expected_error: str | None = None
    expected_layer: str | None = None
    attempts: int = 1
    settle_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def model_gap(self) -> bool:
        return self.predicted is not None and self.predicted.allowed != self.actual.allowed


class CallFailed(Exception):
    """The call failed for a reason that is not an access decision (not found, throttling, ...)."""


@contextlib.contextmanager
def carrying(client: Any, transport: Transport | None) -> Iterator[None]:
    """The client's calls carry ``transport`` in the headers the gate reads (authz/transport.py),
    added first so the in-process gate hook sees them too; removed again afterwards."""
    if transport is None or transport.empty:
        yield
        return
    headers = transport_headers(transport)

    def add(params: Any = None, **_kwargs: Any) -> None:
        if isinstance(params, dict):
            params.setdefault("headers", {}).update(headers)

    uid = f"orchestrate-transport-{id(transport)}"
    client.meta.events.register_first("before-call", add, unique_id=uid)
    try:
        yield
    finally:
        client.meta.events.unregister("before-call", add, unique_id=uid)


def undo_for(ctx: Any, spec: CallSpec) -> Callable[[dict[str, Any]], None] | None:
    """What undoes an allowed call that leaves something behind: an s3 write is undone as the
    call says (`s3_calls.restore`); the grant a kms:CreateGrant expectation made is revoked
    by orchestrate, the key's administrator (KMS API Reference,
    "RevokeGrant"; the lockout guard grants it kms:RevokeGrant), so nothing is left."""
    if spec.undo is not None:
        return _reported(spec, spec.undo)
    if spec.service != "kms" or spec.operation != "CreateGrant":
        return None

    def revoke(answer: dict[str, Any]) -> None:
        try:
            # the key's administrator, orchestrate in the key's account, revokes it
            admin_kms(ctx, str(spec.params["KeyId"])).revoke_grant(KeyId=spec.params["KeyId"], GrantId=answer["GrantId"])
        except Exception as error:
            response = getattr(error, "response", None)
            if not isinstance(response, dict):
                raise
            code, message = response.get("Error", {}).get("Code", ""), response.get("Error", {}).get("Message", "")
            raise CallFailed(f"kms:CreateGrant was allowed, but revoking the grant it made failed with {code}: {message}") from None
    return revoke


def _reported(spec: CallSpec, undo: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """An undo whose AWS refusal is the expectation's CallFailed, not the run's failure."""
    def run(answer: dict[str, Any]) -> None:
        try:
            undo(answer)
        except Exception as error:
            response = getattr(error, "response", None)
            if not isinstance(response, dict):
                raise
            code, message = response.get("Error", {}).get("Code", ""), response.get("Error", {}).get("Message", "")
            raise CallFailed(f"{spec.service}:{spec.operation} was allowed, but undoing it failed with {code}: {message}") from None
    return run


def perform(client: Any, spec: CallSpec, undo: Callable[[dict[str, Any]], None] | None = None) -> Outcome:
    """Make the call; an access decision becomes an Outcome, anything else is CallFailed. An
    allowed call that leaves something behind is undone (`undo_for`)."""
    try:
        with carrying(client, spec.transport):
            answer = getattr(client, spec.method)(**spec.params)
    except Exception as error:
        response = getattr(error, "response", None)
        if not isinstance(response, dict):
            raise
        code = response.get("Error", {}).get("Code", "")
        message = response.get("Error", {}).get("Message", "")
        if code in VERIFICATION_CODES:  # a signature or MAC that does not verify decides no access
            raise VerificationFailed(code, f"{spec.service}:{spec.operation} failed verification: {code}"
                                     f"{': ' + message if message else ''}") from None
        if code in DENIED_CODES or "not authorized" in message or "KMS key access denied" in message:
            return Outcome(False, code, message)
        if code == "403" and spec.operation in HEAD_OPERATIONS:
            # HEAD has no body: botocore makes the status the code, the layer is the engine's
            return Outcome(False, code, message or "Forbidden")
        raise CallFailed(f"{spec.service}:{spec.operation} failed with {code}: {message}") from None
    if spec.verify is not None:
        spec.verify(client, answer)  # VerificationFailed: the allowed answer is not worth what it says
    if undo is not None:
        undo(answer)
    return Outcome(True)


def deciding_layer(outcome: Outcome, predicted: Prediction | None) -> str | None:
    """What AWS's answer states; where its wording does not say (DynamoDB's "KMS key access
    denied" covers both a key policy that does not allow and IAM that does not), the engine's."""
    if outcome.allowed:
        return None
    stated = layer_of(outcome)
    if stated is not None:
        return stated
    if predicted is not None and not predicted.allowed:
        return predicted.layer
    return "key-policy" if "KMS key access denied" in (outcome.message or "") else None


def layer_of(outcome: Outcome) -> str | None:
    """The deciding layer where AWS's answer states it unambiguously."""
    if outcome.allowed:
        return None
    message = outcome.message or ""
    if outcome.code in KEY_STATE_CODES or "DisabledException" in message or "KMSInvalidStateException" in message:
        return "key-state"
    if "explicit deny" in message:
        return "explicit-deny"
    if "permissions boundary" in message:
        return "permissions-boundary"
    if "no resource-based policy allows" in message:
        return "key-policy" if " kms:" in message else "resource-policy"
    if "no identity-based policy allows" in message:
        return "identity-policy"
    return None


def settle(observe: Any, expected_allowed: bool, timeout: float, consecutive: int, waits: bool,
           sleep: Any = time.sleep, clock: Any = time.monotonic) -> tuple[Outcome, int, float]:
    """Observe until the outcome matches and has held `consecutive` times, or the timeout passes.

    The embedded backend never waits: one observation. Backoff doubles from 1 s up to 15 s.
    """
    started = clock()
    outcome = observe()
    attempts, held, delay = 1, int(outcome.allowed == expected_allowed), 1.0
    while waits and held < consecutive and clock() - started + delay <= timeout:
        sleep(delay)
        delay = min(delay * 2, 15.0)
        outcome = observe()
        attempts += 1
        held = held + 1 if outcome.allowed == expected_allowed else 0
    return outcome, attempts, clock() - started
