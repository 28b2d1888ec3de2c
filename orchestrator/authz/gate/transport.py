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
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Mapping, MutableMapping

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import VPC_ENDPOINT, VpcEndpoint

__all__ = ["SOURCE_IP_HEADER", "SECURE_TRANSPORT_HEADER", "SOURCE_VPCE_HEADER", "SOURCE_VPC_HEADER",
           "VPCE_POLICY_HEADER", "TRANSPORT_HEADERS", "Transport", "pop_transport", "transport_headers"]

SOURCE_IP_HEADER = "x-orchestrate-source-ip"
SECURE_TRANSPORT_HEADER = "x-orchestrate-secure-transport"
#: The endpoint: its id, its VPC's id, and its policy as base64url JSON (absent: full access).
SOURCE_VPCE_HEADER = "x-orchestrate-source-vpce"
SOURCE_VPC_HEADER = "x-orchestrate-source-vpc"
VPCE_POLICY_HEADER = "x-orchestrate-vpce-policy"
TRANSPORT_HEADERS = (SOURCE_IP_HEADER, SECURE_TRANSPORT_HEADER, SOURCE_VPCE_HEADER, SOURCE_VPC_HEADER, VPCE_POLICY_HEADER)
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
