"""botocore adapter: run the gate on every call before it is sent (in-process moto).

botocore emits ``before-parameter-build.<service>.<op>`` with the caller's API
parameters and the per-call ``context`` dict, then ``before-call.<service>.<op>``
with the serialized request, the ``request_signer`` (holding the credentials)
and the same ``context``.  A non-None ``(http_response, parsed)`` returned from
``before-call`` replaces sending the request: botocore then raises a real
``ClientError`` built from ``parsed["Error"]`` (botocore ``client.py``,
``BaseClient._make_api_call``).  moto's ``mock_aws`` answers requests in the
later ``before-send`` event (``moto/core/models.py`` ``botocore_stubber``), so a
denied call never reaches moto's backends.

Module state: none of ours.  :func:`install_global_gate` appends to
``botocore.handlers.BUILTIN_HANDLERS`` — the registration point botocore itself
requires for handlers that every new session must get (moto registers its
stubber the same way) — and removes its entries again on ``uninstall``.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from botocore.awsrequest import AWSResponse

from orchestrator.authz.gate.errors import AwsError
from orchestrator.authz.gate.core import CallVerdict, Gate
from orchestrator.authz.gate.transport import Transport, pop_transport

__all__ = ["GateHandler", "GlobalGateHandle", "install_gate", "install_global_gate",
           "gated", "error_response", "success_response"]

_PARAMS_KEY = "orchestrate_api_params"


class _NoBody:
    """Stand-in raw stream for a response that was never sent."""

    def stream(self, *_args: Any, **_kwargs: Any) -> Iterator[bytes]:
        return iter(())


def error_response(error: AwsError) -> tuple[AWSResponse, dict[str, Any]]:
    """``(http_response, parsed)`` from which botocore raises ``ClientError``."""
    headers = {"x-amzn-RequestId": error.request_id, "x-amzn-ErrorType": error.code}
    http = AWSResponse("", error.http_status, headers, _NoBody())
    parsed = {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": {"RequestId": error.request_id, "HTTPStatusCode": error.http_status,
                             "HTTPHeaders": headers, "RetryAttempts": 0},
    }
    return http, parsed


def success_response(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    """``(http_response, parsed)`` for a call the gate answers itself."""
    http = AWSResponse("", 200, {}, _NoBody())
    metadata = {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
    return http, {**parsed, "ResponseMetadata": metadata}


def _signed(request_signer: Any) -> bool:
    """Whether botocore signs the request: not with ``Config(signature_version=UNSIGNED)``, and
    not without credentials (botocore sends such a request unsigned). An unsigned request is
    anonymous, never orchestrate's own identity (whose clients always carry credentials)."""
    from botocore import UNSIGNED

    if request_signer is None:
        return True
    if getattr(request_signer, "_signature_version", None) is UNSIGNED:
        return False
    return getattr(request_signer, "_credentials", None) is not None


def _access_key(request_signer: Any) -> str | None:
    credentials = getattr(request_signer, "_credentials", None)
    if credentials is None:
        return None
    return str(credentials.get_frozen_credentials().access_key)


def _transport(request_dict: Any) -> Transport | None:
    """The per-call transport headers of the serialized request, removed (transport.py)."""
    headers = request_dict.get("headers") if isinstance(request_dict, dict) else None
    return pop_transport(headers) if headers is not None else None


ACCOUNT_HEADER = "x-moto-account-id"


def _asked_account(request_dict: Any) -> str | None:
    """The account orchestrate's own client asks to be served in (moto's header), if any."""
    headers = request_dict.get("headers") if isinstance(request_dict, dict) else None
    if not headers:
        return None
    for name, value in list(headers.items()):
        if name.lower() == ACCOUNT_HEADER:
            return str(value)
    return None


def _serve_in(request_dict: Any, account: str | None) -> None:
    """Make moto serve the allowed call in the account the gate decided it for (set, or replace
    whatever the client sent: a scenario identity cannot choose another account's world)."""
    headers = request_dict.get("headers") if isinstance(request_dict, dict) else None
    if headers is None or account is None:
        return
    for name in [n for n in headers if n.lower() == ACCOUNT_HEADER]:
        del headers[name]
    headers[ACCOUNT_HEADER] = account


def _service(model: Any) -> str:
    service_model = model.service_model
    return str(service_model.signing_name or service_model.service_name)


@dataclass(eq=False)
class GateHandler:
    """The two botocore handlers bound to one gate; ``verdicts`` keeps what was decided."""

    gate: Gate
    active: bool = True
    verdicts: list[CallVerdict] = field(default_factory=list)
    keep: int = 100

    def capture_params(self, params: Any = None, context: Any = None, **_kwargs: Any) -> None:
        """``before-parameter-build``: remember the API parameters of this call."""
        if isinstance(context, dict) and isinstance(params, dict):
            context[_PARAMS_KEY] = dict(params)

    def before_call(self, model: Any = None, request_signer: Any = None, context: Any = None,
                    **_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """``before-call``: decide; answer the AWS error instead of sending when denied."""
        if not self.active or model is None:
            return None
        context = context if isinstance(context, dict) else {}
        region = context.get("client_region") or getattr(request_signer, "_region_name", None)
        service, params = _service(model), context.get(_PARAMS_KEY, {})
        request = _kwargs.get("params")
        transport = _transport(request)
        gate = self.gate if transport is None or transport.empty else self.gate.for_call(transport)
        verdict = gate.check(service, model.name, params, _access_key(request_signer), region, _asked_account(request),
                             signed=_signed(request_signer))
        self.verdicts[:] = (self.verdicts + [verdict])[-self.keep:]
        if verdict.error is not None:
            return error_response(verdict.error)
        _serve_in(request, verdict.account)
        local = self.gate.answer(service, model.name, params)
        if local is None:
            return None
        return error_response(local) if isinstance(local, AwsError) else success_response(local)

    def entries(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-parameter-build", self.capture_params), ("before-call", self.before_call)]


def _emitter(target: Any) -> Any:
    """The event emitter of a boto3/botocore session or a client."""
    meta = getattr(target, "meta", None)
    if meta is not None and hasattr(meta, "events"):
        return meta.events
    if hasattr(target, "events"):  # boto3.Session
        return target.events
    if hasattr(target, "get_component"):  # botocore.session.Session
        return target.get_component("event_emitter")
    raise TypeError(f"cannot gate {type(target).__name__}: not a session or client")


def install_gate(target: Any, gate: Gate) -> Callable[[], None]:
    """Gate one client, or every client created *afterwards* from a session.

    Returns a function that removes the handlers again.
    """
    handler = GateHandler(gate)
    undo = _register_on(target, handler)

    def uninstall() -> None:
        handler.active = False
        undo()

    return uninstall


@dataclass
class GlobalGateHandle:
    """Handle of a gate installed for every boto3 client; ``uninstall`` removes it."""

    handler: GateHandler
    default_session_uninstall: Callable[[], None] | None = None

    def uninstall(self) -> None:
        from botocore.handlers import BUILTIN_HANDLERS

        self.handler.active = False
        for entry in self.handler.entries():
            while entry in BUILTIN_HANDLERS:
                BUILTIN_HANDLERS.remove(entry)
        if self.default_session_uninstall is not None:
            self.default_session_uninstall()


def install_global_gate(gate: Gate) -> GlobalGateHandle:
    """Gate every botocore session created from now on, and boto3's default session.

    Clients that already exist are not gated (as with moto's own mock; use
    :func:`install_gate` on them).  Sessions created while installed stop gating
    after ``uninstall`` because the handler is deactivated.
    """
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    handler = GateHandler(gate)
    BUILTIN_HANDLERS.extend(handler.entries())
    default = None
    if boto3.DEFAULT_SESSION is not None:
        default = _register_on(boto3.DEFAULT_SESSION, handler)
    return GlobalGateHandle(handler, default)


def _register_on(session: Any, handler: GateHandler) -> Callable[[], None]:
    emitter = _emitter(session)
    uid = f"orchestrate-gate-{id(handler)}"
    for event, function in handler.entries():
        emitter.register(event, function, unique_id=f"{uid}-{event}")

    def uninstall() -> None:
        for event, function in handler.entries():
            emitter.unregister(event, function, unique_id=f"{uid}-{event}")

    return uninstall


@contextlib.contextmanager
def gated(gate: Gate) -> Iterator[GateHandler]:
    """``with gated(Gate(region, world)):`` — every boto3 client created inside is gated."""
    handle = install_global_gate(gate)
    try:
        yield handle.handler
    finally:
        handle.uninstall()
