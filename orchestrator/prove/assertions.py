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
from contextvars import ContextVar
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Iterator, NamedTuple

from orchestrator.authz.gate.transport import Transport, transport_headers
from orchestrator.errors import ProofError
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
    #: Not called at all: the backend cannot make the call the expectation describes (`message`
    #: says why; a VPC endpoint on real AWS from outside its VPC). Neither a pass nor a failure.
    skipped: bool = False

    @property
    def word(self) -> str:
        return "skipped" if self.skipped else "error" if self.errored else "allowed" if self.allowed else "denied"


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
    #: When its first observation was made (time.monotonic; not reported): a pooled state's wall clock.
    observed_at: float | None = None
    #: False when the expected outcome was last seen but had not held long enough (a flip-flop).
    settled: bool = True
    #: The expectation's own `description`, and where it starts in its file (1-based; 0: unknown),
    #: set by the runner so that reports can name the expectation and point at it.
    description: str | None = None
    line: int = 0
    col: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems and not self.skipped

    @property
    def skipped(self) -> bool:
        return self.actual.skipped

    @property
    def model_gap(self) -> bool:
        return self.predicted is not None and self.predicted.allowed != self.actual.allowed


class CallFailed(ProofError):
    """The call failed for a reason that is not an access decision (not found, throttling, ...)."""


#: The transport headers of the call the current thread is making (`carrying`): one hook per
#: client reads it, so that threads proving at once (runner's pool) with one client never see
#: each other's headers, and no hook is registered while another thread's call emits events.
_CARRIED: ContextVar[dict[str, str] | None] = ContextVar("orchestrate_transport", default=None)
TRANSPORT_HOOK = "orchestrate-transport"


def _add_carried(params: Any = None, **_kwargs: Any) -> None:
    headers = _CARRIED.get()
    if headers and isinstance(params, dict):
        params.setdefault("headers", {}).update(headers)


def hook_transport(client: Any) -> None:
    """Install the client's transport hook, once (botocore ignores a second `unique_id`); added
    first so the in-process gate hook sees the headers too. The runner calls this before its
    pool starts."""
    client.meta.events.register_first("before-call", _add_carried, unique_id=TRANSPORT_HOOK)


@contextlib.contextmanager
def carrying(client: Any, transport: Transport | None) -> Iterator[None]:
    """The client's calls in this thread carry ``transport`` in the headers the gate reads
    (authz/transport.py); other threads' calls with the same client carry their own."""
    if transport is None or transport.empty:
        yield
        return
    hook_transport(client)
    token = _CARRIED.set(transport_headers(transport))
    try:
        yield
    finally:
        _CARRIED.reset(token)


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
    allowed call that leaves something behind is undone (`undo_for`); what orchestrate made
    for the call beforehand (`CallSpec.setup`) is removed when it was not allowed (`cleanup`)."""
    params = spec.params if spec.setup is None else {**spec.params, **_set_up(spec)}
    answer: dict[str, Any] | None = None
    try:
        outcome, answer = _attempt(client, spec, params)
    finally:
        if answer is None and spec.cleanup is not None:
            spec.cleanup()
    if answer is not None and undo is not None:
        undo(answer)
    return outcome


def _set_up(spec: CallSpec) -> dict[str, Any]:
    """What orchestrate makes before the call; AWS's refusal is the expectation's CallFailed."""
    from orchestrator.prove.key_management import SetupFailed

    assert spec.setup is not None
    try:
        return spec.setup()
    except SetupFailed as error:
        raise CallFailed(f"could not prepare {spec.service}:{spec.operation}: {error}") from None


def _attempt(client: Any, spec: CallSpec, params: dict[str, Any]) -> tuple[Outcome, dict[str, Any] | None]:
    """The call, its outcome, and its answer when allowed (None when not)."""
    try:
        with carrying(client, spec.transport):
            answer = getattr(client, spec.method)(**params)
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
            return Outcome(False, code, message), None
        if code == "403" and spec.operation in HEAD_OPERATIONS:
            # HEAD has no body: botocore makes the status the code, the layer is the engine's
            return Outcome(False, code, message or "Forbidden"), None
        raise CallFailed(f"{spec.service}:{spec.operation} failed with {code}: {message}") from None
    answer = dict(answer or {})
    if spec.verify is not None:
        spec.verify(client, answer)  # VerificationFailed: the allowed answer is not worth what it says
    return Outcome(True), answer


def expected(allowed: bool, code: str | None = None, layer: str | None = None) -> Callable[[Outcome], bool]:
    """What an observation must show to count towards settling: allowed or denied as expected,
    and a denial with the expected error and, where AWS's message states it, the expected layer.
    A denial for another reason is not settled yet: right after a change on AWS, a request can be
    denied by the identity policy that has not propagated before the key policy decides it."""
    def matches(outcome: Outcome) -> bool:
        if outcome.allowed != allowed:
            return False
        if allowed:
            return True
        stated = layer_of(outcome)
        return (code is None or outcome.code == code) and (layer is None or stated is None or stated == layer)
    return matches


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


#: The organization's guardrails as AWS's denial names them, and the layer an expectation names.
_GUARDRAIL_PHRASES = (("service control policy", "scp"), ("resource control policy", "rcp"),
                      ("VPC endpoint policy", "vpc-endpoint"))


def layer_of(outcome: Outcome) -> str | None:
    """The deciding layer where AWS's answer states it unambiguously."""
    if outcome.allowed:
        return None
    message = outcome.message or ""
    if outcome.code in KEY_STATE_CODES or "DisabledException" in message or "KMSInvalidStateException" in message:
        return "key-state"
    for phrase, layer in _GUARDRAIL_PHRASES:  # IAM User Guide, "Troubleshoot access denied error messages"
        if f"explicit deny in a {phrase}" in message or f"no {phrase} allows" in message:
            return layer
    if "explicit deny" in message:
        return "explicit-deny"
    if "permissions boundary" in message:
        return "permissions-boundary"
    if "no session policy allows" in message or "in a session policy" in message:
        return "session-policy"
    if "no resource-based policy allows" in message:
        return "key-policy" if " kms:" in message else "resource-policy"
    if "no identity-based policy allows" in message:
        return "identity-policy"
    return None


#: Waits between observations (seconds): short first, doubling up to the cap while the outcome
#: is not the expected one; when it first matches, the confirmations start short again. An
#: outcome that is stable at once is proved in 0.25 + 0.5 s for `consecutive: 3`, one that lags
#: is asked at most every 5 s (about 30 calls in the default 120 s timeout).
FIRST_WAIT, WAIT_FACTOR, WAIT_CAP = 0.25, 2.0, 5.0


def next_wait(delay: float, held: int) -> float:
    """The wait after an observation: the first match (held 1) confirms soon; otherwise back off."""
    return FIRST_WAIT if held == 1 else min(delay * WAIT_FACTOR, WAIT_CAP)


class Settled(NamedTuple):
    outcome: Outcome
    attempts: int
    seconds: float
    #: The outcome matched and held for `consecutive` observations in a row (or the backend
    #: is not eventually consistent: one observation is the answer).
    stable: bool


def settle(observe: Callable[[], Outcome], expected_allowed: bool, timeout: float, consecutive: int, eventual: bool,
           sleep: Callable[[float], Any] = time.sleep, clock: Callable[[], float] = time.monotonic,
           matches: Callable[[Outcome], bool] | None = None) -> Settled:
    """Observe until the outcome matches and has held for `consecutive` observations in a row, or
    the next wait would pass the timeout: the last outcome, attempts, seconds and whether it held.

    The count is this expectation's own, and a mismatch resets it: allowed, denied, allowed is
    not settled (AWS's eventual consistency can answer from a replica that has not seen the
    change yet, IAM User Guide "Changes that I make are not always immediately visible"). A
    backend that is not eventually consistent is observed once. `sleep` may raise to stop the
    loop (runner's pool does, when the run is interrupted). `matches` (default: allowed or denied
    as expected) may ask more of a denial: the expected error and deciding layer (`expected`).
    """
    matched = matches or (lambda seen: seen.allowed == expected_allowed)
    started = clock()
    outcome = observe()
    attempts, held, delay = 1, int(matched(outcome)), FIRST_WAIT
    while eventual and held < consecutive and clock() - started + delay <= timeout:
        sleep(delay)
        outcome = observe()
        attempts += 1
        held = held + 1 if matched(outcome) else 0
        delay = next_wait(delay, held)
    return Settled(outcome, attempts, clock() - started, not eventual or held >= consecutive)
