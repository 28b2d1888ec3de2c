"""Signature Version 4 as the receiving side computes it, from a WSGI request (``orchestrate serve``).

Follows the IAM User Guide, "Create a signed AWS API request" (formerly the General Reference's
"Signature Version 4 signing process"): the canonical request (method, canonical URI, canonical
query string, canonical headers, signed headers, hashed payload), the string to sign
(``AWS4-HMAC-SHA256``, the request time, the credential scope, the canonical request's SHA-256),
the signing key derived from the secret by HMAC over the scope's date, region, service and
``aws4_request``, and the signature, HMAC-SHA256 of the string to sign with that key. Both ways of
carrying it: the ``Authorization`` header and a presigned URL's query (``X-Amz-Signature``;
S3 API Reference, "Authenticating Requests: Using Query Parameters").

The canonical URI is built from the path as sent (werkzeug keeps it undecoded in ``RAW_URI``;
``PATH_INFO`` is decoded). S3 signs that path once encoded; every other service encodes the
(normalised) path again (IAM User Guide, as above: "Each path segment must be URI-encoded twice
... except for Amazon S3"; botocore's ``SigV4Auth`` and ``S3SigV4Auth`` differ in just this). The
request's own encoding is tried first, then AWS's canonical one (decoded and URI-encoded again), so
a client that encodes differently but signs the canonical form is taken too; either needs the secret.

Nothing here knows who holds a key: ``authenticate.py`` finds the secret and decides.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from botocore.utils import normalize_url_path

__all__ = ["ALGORITHM", "SignedRequest", "header", "matches", "raw_target", "request_time", "signed_request"]

ALGORITHM = "AWS4-HMAC-SHA256"
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
#: The headers WSGI names without ``HTTP_`` (PEP 3333, "environ Variables").
_CGI_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class SignedRequest:
    """What a request says about its signature; ``expires`` is set for a presigned URL only."""

    access_key_id: str
    date: str  # the credential scope's YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # the request time, YYYYMMDDTHHMMSSZ, as the string to sign carries it
    session_token: str | None
    expires: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _credential(value: str) -> tuple[str, str, str, str] | None:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]


def header(environ: Mapping[str, Any], name: str) -> str | None:
    """A request header by its lower-case name (WSGI keeps Content-Type and Content-Length apart)."""
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in _CGI_HEADERS else "HTTP_" + key)
    return None if value is None else str(value)


def _header_fields(authorization: str) -> dict[str, str] | None:
    """``Credential``, ``SignedHeaders`` and ``Signature`` of a SigV4 ``Authorization`` header."""
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip()
    return fields if {"Credential", "SignedHeaders", "Signature"} <= fields.keys() else None


def _header_time(environ: Mapping[str, Any]) -> str | None:
    """``x-amz-date``, else the ``Date`` header in the same basic ISO 8601 form."""
    stamp = header(environ, "x-amz-date")
    if stamp is not None:
        return stamp
    date = header(environ, "date")
    try:
        return None if date is None else parsedate_to_datetime(date).astimezone(timezone.utc).strftime(_TIME_FORMAT)
    except (TypeError, ValueError):
        return None


def signed_request(environ: Mapping[str, Any]) -> SignedRequest | None:
    """The signature a request carries (``Authorization`` header, else a presigned query), or None
    when it carries none that is whole (no algorithm, credential, signed headers or signature)."""
    fields = _header_fields(str(environ.get("HTTP_AUTHORIZATION", "")))
    if fields is not None:
        return _from_fields(fields, _header_time(environ), header(environ, "x-amz-security-token"), None)
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        return None
    fields = {"Credential": query.get("X-Amz-Credential", ""), "SignedHeaders": query.get("X-Amz-SignedHeaders", ""),
              "Signature": query.get("X-Amz-Signature", "")}
    expires = query.get("X-Amz-Expires", "")
    return _from_fields(fields, query.get("X-Amz-Date"), query.get("X-Amz-Security-Token"),
                        int(expires) if expires.isdigit() else -1)


def _from_fields(fields: Mapping[str, str], amz_date: str | None, token: str | None,
                 expires: int | None) -> SignedRequest | None:
    credential = _credential(fields["Credential"])
    headers = tuple(name for name in fields["SignedHeaders"].lower().split(";") if name)
    if credential is None or not headers or not fields["Signature"] or not amz_date:
        return None
    key, date, region, service = credential
    return SignedRequest(key, date, region, service, headers, fields["Signature"].lower(), amz_date, token, expires)


def request_time(signed: SignedRequest) -> datetime | None:
    """The request time the signature names (aware, UTC), None if unreadable."""
    found = _TIME.fullmatch(signed.amz_date)  # strptime costs ~10 us, a tenth of the check
    try:
        return None if found is None else datetime(*map(int, found.groups()), tzinfo=timezone.utc)
    except ValueError:
        return None


def raw_target(environ: Mapping[str, Any]) -> tuple[str, str]:
    """(path, query) as the client sent them: werkzeug's ``RAW_URI`` (undoing WSGI's latin-1
    transport of the bytes); without it, the decoded path encoded again."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")), safe="/~")
        return path or "/", str(environ.get("QUERY_STRING", ""))
    text = str(raw)
    try:
        text = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    if "://" in text.partition("?")[0]:  # an absolute request target (a proxy's form)
        parts = urlsplit(text)
        text = parts.path + (f"?{parts.query}" if parts.query else "")
    path, _, query = text.partition("?")
    return path or "/", query


def _uri_encode(text: str, safe: str) -> str:
    return quote(text, safe=safe + _UNRESERVED)


def _client_uri(path: str, s3: bool) -> str:
    """The canonical URI as botocore builds it from the path it sent (S3: as is)."""
    if s3 or path == "/":
        return path
    return quote(normalize_url_path(path), safe="/~")


def _aws_uri(path: str, s3: bool) -> str:
    """The canonical URI as AWS builds it: the decoded path URI-encoded (twice but for S3)."""
    once = _uri_encode(unquote(path), "/")
    return once if s3 else quote(_uri_encode(normalize_url_path(unquote(path)), "/"), safe="/~")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's name/value pairs as sent, without ``X-Amz-Signature``."""
    pairs = (pair.partition("=") for pair in query.split("&") if pair)
    return [(name, value) for name, _, value in pairs if name != "X-Amz-Signature"]


def _client_query(pairs: list[tuple[str, str]]) -> str:
    """The pairs as sent, sorted (botocore's form)."""
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _aws_query(pairs: list[tuple[str, str]]) -> str:
    """Each name and value decoded and URI-encoded again, sorted (AWS's form)."""
    return _client_query([(_uri_encode(unquote(name), ""), _uri_encode(unquote(value), "")) for name, value in pairs])


def _canonical_headers(environ: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """``name:value`` per signed header, values trimmed and inner runs of spaces made one."""
    return "".join(f"{name}:{' '.join((header(environ, name) or '').split())}\n" for name in names)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.digest(key, text.encode(), "sha256")


def _signing_key(secret: str, signed: SignedRequest) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (signed.date, signed.region, signed.service, "aws4_request"):
        key = _hmac(key, part)
    return key


def matches(environ: Mapping[str, Any], signed: SignedRequest, secret: str, payload_hash: str) -> bool:
    """Whether the request's signature is one ``secret`` makes, for the request's own encoding of
    its path and query or else for AWS's canonical one (see module doc); compared in constant time."""
    path, query = raw_target(environ)
    s3, pairs = signed.service == "s3", _query_pairs(query)
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    tail = "\n".join((_canonical_headers(environ, signed.signed_headers), ";".join(signed.signed_headers), payload_hash))
    key, prefix = _signing_key(secret, signed), f"{ALGORITHM}\n{signed.amz_date}\n{signed.scope}\n"

    def signature(uri: str, canonical_query: str) -> str:
        canonical = f"{method}\n{uri}\n{canonical_query}\n{tail}"
        return hmac.new(key, (prefix + hashlib.sha256(canonical.encode()).hexdigest()).encode(), hashlib.sha256).hexdigest()

    sent = (_client_uri(path, s3), _client_query(pairs))
    if hmac.compare_digest(signature(*sent), signed.signature):
        return True
    canonical = (_aws_uri(path, s3), _aws_query(pairs))
    return canonical != sent and hmac.compare_digest(signature(*canonical), signed.signature)
