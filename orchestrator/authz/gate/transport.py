"""Per-call transport context: what a caller asks the gate to see as ``aws:SourceIp`` and
``aws:SecureTransport`` for one call (an expectation's `source_ip` / `secure_transport`), and the
VPC endpoint the call goes through (an expectation's `vpc_endpoint`: its id, its VPC's id and its
policy, which the engine makes one more layer that must allow, setting ``aws:SourceVpce`` and
``aws:SourceVpc`` and dropping ``aws:SourceIp``: engine/organization.py).

Departure from AWS (docs/embedded-departures.md): AWS takes both keys from the connection
(IAM User Guide, "AWS global condition context keys": ``aws:SourceIp``, ``aws:SecureTransport``);
the embedded backend and ``orchestrate serve`` have no such connection to read, so a request may
carry them in two headers, which the gate reads and strips before moto sees the request.  Real AWS
ignores these headers, which is why a scenario asking for them is refused with ``--target aws``.

Under ``orchestrate serve`` any client can send headers, so they are honoured only with a proof
that orchestrate's own identity chose them (:data:`TRANSPORT_MAC_HEADER`): else a principal could
claim an endpoint or a source address and pass a bucket or key policy that denies unless the
request comes that way, a request no SDK can make. The proof is ``KEY_ID:HEX``, HMAC-SHA256 keyed
with the secret of one of serve's administrator keys (``KEY_ID``) over the key id, the request's
own binding (:class:`RequestBinding`: its SigV4 ``Authorization`` header, unique to the request,
so a proof cannot be moved to another request) and the transport headers' names and values,
sorted. The client adds it after signing (botocore's ``before-send``: :func:`transport_signer`);
serve checks it (``gate/transport_proof.py``). In-process there is no network: the botocore hook
reads the headers of orchestrate's own clients, unproved.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, MutableMapping
from urllib.parse import urlsplit

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import VPC_ENDPOINT, VpcEndpoint

__all__ = ["SOURCE_IP_HEADER", "SECURE_TRANSPORT_HEADER", "SOURCE_VPCE_HEADER", "SOURCE_VPC_HEADER",
           "VPCE_POLICY_HEADER", "TRANSPORT_HEADERS", "TRANSPORT_MAC_HEADER", "RequestBinding", "Transport",
           "mac_matches", "pop_transport", "prepared_binding", "read_mac", "transport_headers", "transport_mac", "transport_signer"]

SOURCE_IP_HEADER = "x-orchestrate-source-ip"
SECURE_TRANSPORT_HEADER = "x-orchestrate-secure-transport"
#: The endpoint: its id, its VPC's id, and its policy as base64url JSON (absent: full access).
SOURCE_VPCE_HEADER = "x-orchestrate-source-vpce"
SOURCE_VPC_HEADER = "x-orchestrate-source-vpc"
VPCE_POLICY_HEADER = "x-orchestrate-vpce-policy"
TRANSPORT_HEADERS = (SOURCE_IP_HEADER, SECURE_TRANSPORT_HEADER, SOURCE_VPCE_HEADER, SOURCE_VPC_HEADER, VPCE_POLICY_HEADER)
#: Under serve: ``KEY_ID:HEX``, the proof that orchestrate's own identity chose the transport headers.
TRANSPORT_MAC_HEADER = "x-orchestrate-transport-mac"
_MAC_SCHEME = "ORCHESTRATE-TRANSPORT-HMAC-SHA256"
#: A key id (printable, no colon, as IAM's are) and the MAC's 64 hex digits.
_MAC_VALUE = re.compile(r"^([!-9;-~]{1,128}):([0-9a-f]{64})$")
#: EC2 API Reference, "VpcEndpoint" and "Vpc": ids are the prefix and hex digits.
_VPCE_ID = re.compile(r"^vpce-[0-9a-f]{8,17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class Transport:
    """Overrides for one call; None keeps the gate's own value."""

    source_ip: str | None = None
    secure_transport: bool | None = None
    vpc_endpoint: VpcEndpoint | None = None

    @property
    def empty(self) -> bool:
        return self.source_ip is None and self.secure_transport is None and self.vpc_endpoint is None


def _source_ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None  # not an address: the gate keeps its own value, never a widened one


def _secure(value: str | None) -> bool | None:
    word = (value or "").strip().lower()
    return {"true": True, "false": False}.get(word)


def _endpoint(found: Mapping[str, str]) -> VpcEndpoint | None:
    """The endpoint the headers name; None without a well-formed id (never a widened request: a
    malformed policy makes the endpoint deny everything, as an endpoint policy that allows nothing)."""
    endpoint_id = (found.get(SOURCE_VPCE_HEADER) or "").strip()
    if not _VPCE_ID.match(endpoint_id):
        return None
    vpc = (found.get(SOURCE_VPC_HEADER) or "").strip()
    encoded = found.get(VPCE_POLICY_HEADER)
    if encoded is None:
        return VpcEndpoint(endpoint_id, vpc if _VPC_ID.match(vpc) else "")
    try:  # kept as text, as the world's policies are (the gate's memo hashes documents)
        document = base64.urlsafe_b64decode(encoded.strip().encode()).decode()
        json.loads(document)
    except ValueError:
        document = json.dumps({"Version": "2012-10-17", "Statement": []})
    return VpcEndpoint(endpoint_id, vpc if _VPC_ID.match(vpc) else "", PolicySource(VPC_ENDPOINT, endpoint_id, document))


def pop_transport(headers: MutableMapping[str, str]) -> Transport:
    """Read and remove the transport headers (any case) from ``headers``."""
    found: dict[str, str] = {}
    for name in [n for n in headers if n.lower() in TRANSPORT_HEADERS]:
        found[name.lower()] = str(headers.pop(name))
    return Transport(_source_ip(found.get(SOURCE_IP_HEADER)), _secure(found.get(SECURE_TRANSPORT_HEADER)), _endpoint(found))


def transport_headers(transport: Transport) -> Mapping[str, str]:
    """The headers that carry ``transport``."""
    headers: dict[str, str] = {}
    if transport.source_ip is not None:
        headers[SOURCE_IP_HEADER] = transport.source_ip
    if transport.secure_transport is not None:
        headers[SECURE_TRANSPORT_HEADER] = "true" if transport.secure_transport else "false"
    endpoint = transport.vpc_endpoint
    if endpoint is not None:
        headers[SOURCE_VPCE_HEADER] = endpoint.id
        if endpoint.vpc:
            headers[SOURCE_VPC_HEADER] = endpoint.vpc
        if endpoint.policy is not None:
            document = endpoint.policy.document
            text = document if isinstance(document, str) else json.dumps(document)
            headers[VPCE_POLICY_HEADER] = base64.urlsafe_b64encode(text.encode()).decode()
    return headers


@dataclass(frozen=True)
class RequestBinding:
    """What makes one request its own, which a transport MAC binds: its method and target (path
    and query as sent), and its SigV4 ``Authorization`` header, whose signature covers the signed
    headers, the payload's hash and the request time. A request without that header (unsigned, or
    presigned, whose signature is in the target) binds its body's SHA-256 as well."""

    method: str
    target: str
    authorization: str = ""
    body_sha256: str = ""


def _text(value: Any) -> str:
    """A header as text: botocore's prepared request holds bytes (HTTP's latin-1), WSGI text."""
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _mac(secret: str, key_id: str, binding: RequestBinding, headers: Mapping[str, Any]) -> str:
    carried = sorted((_text(name).lower(), _text(value).strip()) for name, value in headers.items()
                     if _text(name).lower() in TRANSPORT_HEADERS)
    message = json.dumps([_MAC_SCHEME, key_id, binding.method.upper(), binding.target, binding.authorization,
                          binding.body_sha256, carried], separators=(",", ":"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def transport_mac(key_id: str, secret: str, binding: RequestBinding, headers: Mapping[str, Any]) -> str:
    """The :data:`TRANSPORT_MAC_HEADER` value proving ``headers``' transport headers for the request
    ``binding`` names, made with an administrator's key pair."""
    return f"{key_id}:{_mac(secret, key_id, binding, headers)}"


def read_mac(value: str | None) -> tuple[str, str] | None:
    """(key id, MAC) of a :data:`TRANSPORT_MAC_HEADER` value; None when absent or malformed."""
    found = _MAC_VALUE.match((value or "").strip())
    return None if found is None else (found[1], found[2])


def mac_matches(secret: str, key_id: str, binding: RequestBinding, headers: Mapping[str, str], given: str) -> bool:
    """Whether ``given`` is the MAC ``secret`` makes for these headers on this request (constant time)."""
    return hmac.compare_digest(_mac(secret, key_id, binding, headers).encode(), given.encode())


def _body_sha256(body: Any) -> str | None:
    """The SHA-256 of a prepared request's body (bytes, text, or a stream read and rewound); None
    for a stream that cannot be rewound (the headers then go unproved: ignored, never widened)."""
    if body is None or isinstance(body, (bytes, bytearray, str)):
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        return hashlib.sha256(data).hexdigest()
    try:
        start = body.tell()
        digest = hashlib.sha256(body.read())
        body.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return digest.hexdigest()


def prepared_binding(request: Any) -> RequestBinding | None:
    """The binding of botocore's prepared request (``AWSPreparedRequest``), once signed; None
    when its body cannot be read again."""
    parts = urlsplit(_text(request.url))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    authorization = _text(request.headers.get("Authorization") or "")
    digest = "" if authorization else _body_sha256(request.body)
    return None if digest is None else RequestBinding(str(request.method), target, authorization, digest)


def transport_signer(key_id: str, secret: str) -> Callable[..., None]:
    """A botocore ``before-send`` handler adding :data:`TRANSPORT_MAC_HEADER` to a request that
    carries transport headers, made with orchestrate's own key pair (backends/endpoint.py). It
    runs after signing, so the ``Authorization`` header it binds exists. The pair stays in the
    closure: botocore's debug log names the handler, never its arguments."""
    def sign(request: Any = None, **_: Any) -> None:
        headers = getattr(request, "headers", None)
        if headers is None or not any(_text(name).lower() in TRANSPORT_HEADERS for name in headers.keys()):
            return
        binding = prepared_binding(request)
        if binding is not None:
            headers[TRANSPORT_MAC_HEADER] = transport_mac(key_id, secret, binding, dict(headers.items()))

    return sign
