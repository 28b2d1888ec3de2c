"""Strict reading of a JSON- or query-protocol request: one reading, or a refusal.

The gate must decide the very call moto runs (issue 21). moto's server derives a request's
operation and parameters its own way (moto ``core/routing.py``, ``core/responses.py``,
werkzeug's form parser): the query protocol's ``Action`` from the URL *before* the body
(``request.values``), a form body whatever the case of its ``Content-Type``, a gzip'd body
decoded, JSON parsed by Python's ``json`` (which takes ``NaN``). Rather than copy each quirk,
the gate accepts only requests that every one of those readings understands the same way and
refuses the rest with the protocol's own error:

* query protocol (IAM, STS; AWS Query API, "Common Errors": ``MissingAction``,
  ``InvalidAction``, ``InvalidParameterCombination`` 400, ``MalformedQueryString`` 404): the
  parameters come from the URL or from an ``application/x-www-form-urlencoded`` body, never
  both; no parameter is given twice; an ``X-Amz-Target`` header has no place;
* JSON protocols (DynamoDB, KMS, Organizations; Smithy "AWS JSON 1.0/1.1 protocol"): the operation is
  ``X-Amz-Target: <targetPrefix>.<Operation>`` exactly; the body is one UTF-8 JSON object, no
  ``NaN``/``Infinity``, no key twice, nested at most :data:`MAX_JSON_DEPTH` deep; anything else
  is DynamoDB's and KMS's ``SerializationException`` (DynamoDB Developer Guide, "Error handling
  with DynamoDB"), an unknown target ``UnknownOperationException``;
* neither protocol takes a compressed body: none of IAM, STS, KMS and DynamoDB has an operation
  with Smithy's ``@requestCompression`` trait (botocore's service models), so a
  ``Content-Encoding`` other than ``identity`` is refused (moto alone would gunzip it).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl

from orchestrator.errors import BackendFailure

__all__ = ["MAX_JSON_DEPTH", "Malformed", "JSON_TARGETS", "content_coding_refused", "json_call",
           "mimetype", "query_call", "query_pairs"]

#: Deeper JSON is refused before moto's recursive readers see it (DynamoDB nests attribute values
#: at most 32 levels, about 70 JSON levels; DynamoDB Developer Guide, "Data types").
MAX_JSON_DEPTH = 100
#: The X-Amz-Target prefix of each JSON service (botocore's ``metadata.targetPrefix``).
JSON_TARGETS = {"dynamodb": "DynamoDB_20120810", "kms": "TrentService", "organizations": "AWSOrganizationsV20161128"}
_JSON_MIMETYPES = frozenset({"application/x-amz-json-1.0", "application/x-amz-json-1.1"})
_FORM = "application/x-www-form-urlencoded"
_OPERATION = re.compile(r"[A-Za-z][A-Za-z0-9]*")
#: Query parameters of SigV4 presigning, not API parameters (AWS General Reference, "Create a
#: signed AWS API request": authentication information in the query string).
_AUTH_PARAMETER = re.compile(r"X-Amz-", re.IGNORECASE)


class Malformed(BackendFailure):
    """A request the gate refuses to read: the AWS error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.aws_code = code


@dataclass(frozen=True)
class WireCall:
    """The operation and parameters a JSON or query request asks for."""

    operation: str
    params: dict[str, Any]


def mimetype(headers: Mapping[str, str]) -> str:
    """The media type of ``Content-Type``, lower case, without parameters (as werkzeug reads it)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def content_coding_refused(headers: Mapping[str, str]) -> bool:
    """Whether the body is encoded (gzip, deflate...): no service here decodes it (module doc)."""
    coding = headers.get("content-encoding")
    return coding is not None and coding.strip().lower() not in ("", "identity")


def query_pairs(raw: str, where: str) -> list[tuple[str, str]]:
    """``name=value`` pairs of a URL query or form body; invalid UTF-8 once decoded is
    ``MalformedQueryString`` (werkzeug re-quotes such bytes, Python replaces them: two readings)."""
    try:
        return parse_qsl(raw, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed("MalformedQueryString", f"The {where} is not valid UTF-8 once percent-decoded.", 404) from error


def _query_body(body: bytes, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    if content_coding_refused(headers):
        raise Malformed("MalformedQueryString",
                        f"Content-Encoding {headers['content-encoding']!r} is not supported.", 404)
    if "content-type" in headers and mimetype(headers) != _FORM:
        raise Malformed("MalformedQueryString", f"Content-Type must be {_FORM}.", 404)
    if not body:
        return []
    try:
        return query_pairs(body.decode("utf-8"), "request body")
    except UnicodeDecodeError as error:
        raise Malformed("MalformedQueryString", "The request body is not UTF-8.", 404) from error


def query_call(query_string: str, body: bytes, headers: Mapping[str, str]) -> WireCall:
    """The query-protocol call, from the URL's parameters or the form body's (AWS Query API,
    "Making Query requests"), refused when moto and the gate could read it differently."""
    if headers.get("x-amz-target"):
        raise Malformed("InvalidParameterCombination", "X-Amz-Target is not a parameter of the query protocol.")
    in_url = query_pairs(query_string, "query string")
    in_body = _query_body(body, headers)
    api_in_url = [name for name, _ in in_url if not _AUTH_PARAMETER.match(name)]
    if in_body and api_in_url:
        raise Malformed("InvalidParameterCombination",
                        f"Parameters in both the query string and the body: {sorted(set(api_in_url))[:5]}.")
    pairs = in_url + in_body
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Malformed("InvalidParameterCombination", f"Parameters given more than once: {repeated[:5]}.")
    params = dict(pairs)
    action = params.pop("Action", None)
    if not action:
        raise Malformed("MissingAction", "The request is missing an action or a required parameter.")
    if not _OPERATION.fullmatch(action):
        raise Malformed("InvalidAction", f"The action {action[:64]!r} is not valid for this web service.")
    return WireCall(action, params)


def _no_constant(name: str) -> Any:
    raise Malformed("SerializationException", f"{name} is not a JSON number.")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise Malformed("SerializationException", "A JSON object names a member more than once.")
    return found


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def json_document(body: bytes) -> dict[str, Any]:
    """The request's JSON object, or ``SerializationException``."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except Malformed:
        raise
    except UnicodeDecodeError as error:
        raise Malformed("SerializationException", "The request body is not UTF-8.") from error
    except (ValueError, RecursionError) as error:
        raise Malformed("SerializationException", f"The request body is not valid JSON: {str(error)[:80]}") from error
    if not isinstance(document, dict):
        raise Malformed("SerializationException", "The request body must be a JSON object.")
    if _depth(document) > MAX_JSON_DEPTH:
        raise Malformed("SerializationException", f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    return document


def json_call(service: str, query_string: str, body: bytes, headers: Mapping[str, str]) -> WireCall:
    """The JSON-protocol call of ``service``: ``X-Amz-Target`` names it exactly as moto's router
    matches it (``<targetPrefix>.<Operation>``, case and all), the body is one JSON object."""
    prefix, target = JSON_TARGETS.get(service, ""), headers.get("x-amz-target", "")
    name = target[len(prefix) + 1:] if prefix and target.startswith(f"{prefix}.") else ""
    if not _OPERATION.fullmatch(name):
        raise Malformed("UnknownOperationException", f"Unknown operation {target[:80]!r}.")
    if any(key == "Action" for key, _ in query_pairs(query_string, "query string")):
        raise Malformed("UnknownOperationException", "An Action parameter has no place beside X-Amz-Target.")
    if content_coding_refused(headers):
        raise Malformed("SerializationException", f"Content-Encoding {headers['content-encoding']!r} is not supported.")
    if "content-type" in headers and mimetype(headers) not in _JSON_MIMETYPES:
        raise Malformed("SerializationException", "Content-Type must be application/x-amz-json-1.0 or 1.1.")
    return WireCall(name, json_document(body))
