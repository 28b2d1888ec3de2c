"""Per-call transport context: what a caller asks the gate to see as ``aws:SourceIp`` and
``aws:SecureTransport`` for one call (an expectation's `source_ip` / `secure_transport`).

Departure from AWS (docs/embedded-departures.md): AWS takes both keys from the connection
(IAM User Guide, "AWS global condition context keys": ``aws:SourceIp``, ``aws:SecureTransport``);
the embedded backend and ``orchestrate serve`` have no such connection to read, so a request may
carry them in two headers, which the gate reads and strips before moto sees the request.  Real AWS
ignores these headers, which is why a scenario asking for them is refused with ``--target aws``.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping, MutableMapping

__all__ = ["SOURCE_IP_HEADER", "SECURE_TRANSPORT_HEADER", "Transport", "pop_transport", "transport_headers"]

SOURCE_IP_HEADER = "x-orchestrate-source-ip"
SECURE_TRANSPORT_HEADER = "x-orchestrate-secure-transport"


@dataclass(frozen=True)
class Transport:
    """Overrides for one call; None keeps the gate's own value."""

    source_ip: str | None = None
    secure_transport: bool | None = None

    @property
    def empty(self) -> bool:
        return self.source_ip is None and self.secure_transport is None


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


def pop_transport(headers: MutableMapping[str, str]) -> Transport:
    """Read and remove the two headers (any case) from ``headers``."""
    found: dict[str, str] = {}
    for name in [n for n in headers if n.lower() in (SOURCE_IP_HEADER, SECURE_TRANSPORT_HEADER)]:
        found[name.lower()] = str(headers.pop(name))
    return Transport(_source_ip(found.get(SOURCE_IP_HEADER)), _secure(found.get(SECURE_TRANSPORT_HEADER)))


def transport_headers(transport: Transport) -> Mapping[str, str]:
    """The headers that carry ``transport``."""
    headers: dict[str, str] = {}
    if transport.source_ip is not None:
        headers[SOURCE_IP_HEADER] = transport.source_ip
    if transport.secure_transport is not None:
        headers[SECURE_TRANSPORT_HEADER] = "true" if transport.secure_transport else "false"
    return headers
