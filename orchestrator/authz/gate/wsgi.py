"""WSGI adapter: the gate in front of moto's server app (``orchestrate serve``).

Reads what AWS's front end reads (AWS General Reference, "Signature Version 4
signing process": the ``Credential=<key id>/<date>/<region>/<service>/aws4_request``
scope of the ``Authorization`` header or ``X-Amz-Credential`` query parameter),
finds the operation (``X-Amz-Target`` for the JSON protocols of DynamoDB and KMS,
the ``Action`` parameter for the query protocol of IAM and STS, method + path for
the S3 REST API) and answers denials in each protocol's wire format:

* JSON: ``{"__type": ..., "message": ...}`` with ``x-amzn-ErrorType``
  (Smithy "AWS JSON 1.0/1.1 protocol", error serialization);
* query: ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``
  (IAM API Reference, "Common Errors");
* S3: ``<Error><Code/><Message/><RequestId/></Error>`` (S3 API Reference,
  "Error responses"), no body for ``HEAD``.

The request body is read once and put back (``wsgi.input`` re-wrapped), so the
downstream app sees it unchanged; of S3 bodies only PutBucketPolicy's is read (Block Public
Access judges the policy). A request with no SigV4 credential is the anonymous caller's: S3
decides it by the bucket policy's grants to ``"*"``, every other service is answered
MissingAuthenticationToken; none goes to moto undecided, and none is orchestrate's own identity.
"""
from __future__ import annotations

import contextlib
import io
import os
import json
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from orchestrator.authz.gate.core import CallVerdict, Gate
from orchestrator.authz.gate.errors import AwsError, missing_authentication, new_request_id
from orchestrator.authz.gate.propagation import PROPAGATION_HEADER, Propagation, RecordingWorld, mutates, serving
from orchestrator.authz.gate.transport import TRANSPORT_HEADERS, TRANSPORT_MAC_HEADER, Transport, pop_transport
from orchestrator.authz.gate.wire import JSON_TARGETS, Malformed, WireCall, json_call, query_call
from orchestrator.authz.services.iam_simulate import unflatten_query
from orchestrator.authz.services.s3_rest import BUCKET_NAME, rest_operation, rest_params, split_bucket_key
from orchestrator.constants import DEFAULT_REGION

if TYPE_CHECKING:
    from orchestrator.authz.gate.authenticate import AdminKeys, Authenticator

__all__ = ["GateMiddleware", "GatedMotoServer", "MAX_BODY", "ParsedCall", "make_gated_server_app", "parse_call", "read_body"]

StartResponse = Callable[..., Any]
_JSON_TYPES = {"dynamodb": ("application/x-amz-json-1.0", "com.amazonaws.dynamodb.v20120810#"),
               "kms": ("application/x-amz-json-1.1", "")}
_XML_MAPS = frozenset({"EvalDecisionDetails"})
_QUERY_NS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
             "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


@dataclass(frozen=True)
class ParsedCall:
    """What the gate needs from one HTTP request."""

    service: str
    operation: str
    params: Mapping[str, Any]
    access_key_id: str | None
    region: str
    protocol: str  # "json" | "query" | "rest-xml"
    #: False for a request with no SigV4 credential: anonymous (Gate.check_anonymous)
    signed: bool = True
    #: The error answering a request the gate cannot read one way only (wire.py); moto never runs it
    refusal: AwsError | None = None


def _refused(service: str, protocol: str, error: Malformed, access_key: str | None, region: str,
             signed: bool = True) -> ParsedCall:
    refusal = AwsError(error.code, error.message, error.status, "request", service, new_request_id())
    return ParsedCall(service, "", {}, access_key, region, protocol, signed, refusal)


def _scope(environ: Mapping[str, Any], query: Mapping[str, list[str]]) -> str | None:
    """The SigV4 credential scope (AWS General Reference, "Signature Version 4": the
    ``Authorization`` header's ``Credential=`` or the ``X-Amz-Credential`` query parameter), read
    where moto's server reads it (the second word of the header's first comma-separated part)."""
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    presigned = "X-Amz-Credential" in query
    if header and presigned:
        raise Malformed("InvalidParameterCombination", "Only one auth mechanism allowed; only the X-Amz-Credential "
                        "query parameter or the Authorization header may be given.")
    if presigned:
        return query["X-Amz-Credential"][0]
    if not header:
        if "AWSAccessKeyId" in query or "Signature" in query:
            raise Malformed("IncompleteSignature", "Signature Version 2 is not supported; sign with Signature Version 4.")
        return None
    words = header.split(",")[0].split()
    if len(words) < 2 or not words[1].startswith("Credential="):
        raise Malformed("IncompleteSignature", "Authorization header requires 'Credential' parameter first.")
    return words[1][len("Credential="):]


def _credential(environ: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(access key id, region, service) from SigV4 header or presigned query; ``Malformed`` for a
    credential that is there but not ``<key>/<date>/<region>/<service>/aws4_request`` in lower case."""
    scope = _scope(environ, parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    if scope is None:
        return None
    parts = scope.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise Malformed("IncompleteSignature", f"Credential {scope[:120]!r} is not <key>/<date>/<region>/<service>/aws4_request.")
    key, _, region, service, _ = parts
    if service != service.lower() or region != region.lower():
        raise Malformed("IncompleteSignature", f"Credential should be scoped to correct service: '{service.lower()}'.")
    return key, region, service


#: The largest request body the gate reads (and moto then gets): DynamoDB's largest request,
#: BatchWriteItem's 16 MB (Amazon DynamoDB Developer Guide, "Quotas in Amazon DynamoDB": "up to
#: 16 MB of data"), far above any IAM, STS or KMS request and a bucket policy's 20 KB (S3 User
#: Guide, "Bucket policies": "limited to 20 KB"). A longer one is refused, not buffered.
MAX_BODY = 16 * 1024 * 1024


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the body and put it back for the downstream app: ``Content-Length`` bytes, or the
    whole stream when the server says it ends (``wsgi.input_terminated``, a chunked request),
    as werkzeug reads it for moto. Above :data:`MAX_BODY` it raises ``Malformed`` (413), read no
    further than that."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise _too_large()
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise _too_large()
    else:
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _too_large() -> Malformed:
    return Malformed("RequestEntityTooLarge", f"The request body is larger than {MAX_BODY} bytes.", 413)


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    found = {key[5:].replace("_", "-").lower(): str(value)
             for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.lower().replace("_", "-")] = str(environ[key])
    return found


def _flat_query(raw: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _moto_request(environ: dict[str, Any]) -> Any:
    """moto's own view of the request (``moto.core.request.Request``, the base of the request its
    server app builds), for the raw path and the host; it reads no body."""
    from moto.core.request import Request

    return Request(environ)


def _virtual_bucket(request: Any) -> str | None:
    """The bucket a virtual-hosted request's ``Host`` names, None for a path-style request, as
    moto's S3 tells them apart (``S3Response.subdomain_based_buckets``); an access point's host
    is refused (moto would swap in the access point's bucket)."""
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    if ".s3-accesspoint." in str(request.headers.get("host", "")):
        raise Malformed("NotImplemented", "Access point requests are not supported by orchestrate serve.", 501)
    if not S3Response.subdomain_based_buckets(request):
        return None
    return bucket_name_from_url(request.raw_url) or ""


def _s3_call(environ: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    request = _moto_request(environ)
    raw_path = str(request.raw_path)
    if raw_path.startswith("//"):
        raise Malformed("InvalidURI", "Couldn't parse the specified URI.")
    bucket, key = split_bucket_key(raw_path, _virtual_bucket(request))
    if (bucket and not BUCKET_NAME.fullmatch(bucket)) or (not bucket and key):
        raise Malformed("InvalidBucketName", "The specified bucket is not valid.")
    query = _flat_query(str(environ.get("QUERY_STRING", "")))
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    operation, params = rest_operation(method, bucket, key, query, headers), rest_params(bucket, key, headers)
    if operation == "PutBucketPolicy":  # the one S3 body the gate reads: BlockPublicPolicy judges it
        params["Policy"] = read_body(environ).decode("utf-8", "replace")
    return operation, params


#: S3 Control's REST API (signed as `s3`; S3 Control API Reference, "PutPublicAccessBlock": `PUT
#: /v20180820/configuration/publicAccessBlock` with the `x-amz-account-id` header).
_S3CONTROL_PATH = "/v20180820/"
_S3CONTROL_OPERATIONS = {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock", "DELETE": "DeletePublicAccessBlock"}


def _s3control_call(environ: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """An S3 Control request: the account-level public access block operations orchestrate makes
    (any other path keeps its method as the operation's name, decided on `*`)."""
    path, method = str(environ.get("PATH_INFO", "")), str(environ.get("REQUEST_METHOD", "GET")).upper()
    known = path.rstrip("/") == "/v20180820/configuration/publicAccessBlock"
    operation = _S3CONTROL_OPERATIONS.get(method, method) if known else f"{method.title()}{path}"
    return operation, {"AccountId": headers.get("x-amz-account-id", "")}


def _protocol(service: str, headers: Mapping[str, str]) -> str:
    """A service's protocol is its own (botocore's ``metadata.protocol``), whatever the request's
    headers say: a query service never takes X-Amz-Target, nor a JSON one ``Action``."""
    if service in ("s3", "s3control"):
        return "rest-xml"
    if service in JSON_TARGETS:
        return "json"
    if service in _QUERY_NS:
        return "query"
    return "json" if headers.get("x-amz-target") else "query"


def _api_call(service: str, environ: dict[str, Any], headers: Mapping[str, str]) -> WireCall:
    """The operation and parameters of a JSON or query protocol request (wire.py), or ``Malformed``."""
    query_string, body = str(environ.get("QUERY_STRING", "")), read_body(environ)
    if _protocol(service, headers) == "json":
        return json_call(service, query_string, body, headers)
    return query_call(query_string, body, headers)


#: moto's control API (reset, state): not AWS, passed on as before
_MOTO_API = ("/moto-api", "/favicon.ico")
#: The service of an unsigned JSON request, by its X-Amz-Target prefix.
_TARGET_SERVICES = (("TrentService.", "kms"), ("DynamoDB_", "dynamodb"), ("AWSOrganizationsV20161128.", "organizations"))


def _module_named(host: str) -> str | None:
    """``host`` when it names one of moto's service packages: the first test of moto's
    ``get_backend_for_host`` (``host in list_of_moto_modules()``, a folder of the ``moto`` package
    not starting with ``__``), made with one ``stat`` where moto lists the package's folder
    (about 0.3 ms a request). Anything else is left to moto's own lookup."""
    import moto

    if not host or host.startswith("__") or not host.replace("_", "").replace("-", "").isalnum():
        return None
    return host if os.path.isdir(os.path.join(os.path.dirname(moto.__file__), host)) else None


def _backend_for_host(dispatcher: Any, host: str) -> str | None:
    """moto's ``DomainDispatcherApplication.get_backend_for_host``, in its order: ``moto_api``, a
    host naming one of moto's service packages (:func:`_module_named`), then the first backend
    whose URL pattern matches ``http://HOST``. moto lists its package's folder for the second
    test on every call (~0.7 ms); a host with a dot or a colon names no package, so the gate
    goes straight to the patterns."""
    if host == "moto_api" or _module_named(host):
        return host
    if "." not in host and ":" not in host:
        return dispatcher.get_backend_for_host(host)
    url = f"http://{host}"
    return next((backend for backend, pattern in dispatcher.backend_url_patterns if pattern.match(url)), None)


def _moto_backend(environ: dict[str, Any]) -> str | None:
    """The moto backend its server app would hand this request to (moto
    ``DomainDispatcherApplication.get_application``), asked of moto itself on a copy of the
    request (its body already buffered by the gate where moto would read it); None if moto could
    not route it (moto would answer 500)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    path = str(environ.get("PATH_INFO", ""))
    if path.startswith(("/latest/meta-data/", "/latest/api/")):
        return "instance_metadata"
    stream = environ.get("wsgi.input")
    probe = {**environ, "wsgi.input": io.BytesIO(stream.getvalue() if isinstance(stream, io.BytesIO) else b"")}
    dispatcher = DomainDispatcherApplication(create_backend_app)
    try:
        host = dispatcher.infer_service_region_host(probe, path) or "s3.us-east-1.amazonaws.com"
        return _backend_for_host(dispatcher, host)
    except Exception:  # noqa: BLE001 - what moto's dispatcher raises on is moto's 500, never a call
        return None


def _moto_region(environ: dict[str, Any]) -> str | None:
    """The region moto's non-S3 responses act in (``BaseResponse.get_region_from_url``: the URL's
    host, then the User-Agent's ``region/...``, then the credential scope)."""
    from moto.core.responses import BaseResponse

    url_match = None
    if _may_name_a_region(environ):  # else moto's URL regex cannot match: no moto Request to build
        url_match = BaseResponse.region_regex.search(str(_moto_request(environ).raw_url))
    found = url_match or BaseResponse.region_from_useragent_regex.search(str(environ.get("HTTP_USER_AGENT", "")))
    return found.group(1) if found else None


def _may_name_a_region(environ: Mapping[str, Any]) -> bool:
    """Whether the URL moto reads (``Request.raw_url``: the host, the raw path, the query string)
    can hold ``.REGION.amazonaws.com``: only if one of its sources holds ``amazonaws``."""
    sources = ("HTTP_HOST", "SERVER_NAME", "RAW_URI", "REQUEST_URI", "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME")
    return any("amazonaws" in str(environ.get(name, "")) for name in sources)


def _disagreement(call: ParsedCall, environ: dict[str, Any]) -> Malformed | None:
    """Why moto would run this request elsewhere than the gate decides it: another backend (the
    Authorization header read differently, an S3 Control host, an old DynamoDB API version...), or
    another region."""
    backend = _moto_backend(environ)
    if backend != call.service:
        return Malformed("IncompleteSignature", f"The request is signed for {call.service} but addressed to "
                         f"{backend or 'no service'}.")
    region = _moto_region(environ) if call.service not in ("s3", "s3control") else None
    if region is not None and region != call.region:
        return Malformed("IncompleteSignature", f"Credential should be scoped to a valid region, not '{call.region}'.")
    return None


def _buffer_form(environ: dict[str, Any]) -> None:
    """Buffer the body moto's dispatcher reads to route an unsigned request (a form body)."""
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        read_body(environ)


def _unsigned_call(environ: dict[str, Any], headers: Mapping[str, str]) -> ParsedCall:
    """An unsigned request, as the anonymous caller makes it: an S3 REST request when moto's
    server would route it to S3; anything else (a JSON or query request, which only S3 would take
    unsigned) is answered MissingAuthenticationToken."""
    region = DEFAULT_REGION
    try:
        _buffer_form(environ)
    except Malformed as error:
        return _refused("s3", "rest-xml", error, None, region, signed=False)
    target = headers.get("x-amz-target", "")
    backend = "kms-or-dynamodb" if target else _moto_backend(environ)
    if backend != "s3":
        service = next((name for prefix, name in _TARGET_SERVICES if target.startswith(prefix)),
                       "kms" if target else (backend if backend in _QUERY_NS else "sts"))
        protocol = "json" if target else "query"
        return ParsedCall(service, "", {}, None, region, protocol, signed=False,
                          refusal=missing_authentication(service, new_request_id()))
    try:
        operation, params = _s3_call(environ, headers)
    except Malformed as error:
        return _refused("s3", "rest-xml", error, None, region, signed=False)
    return ParsedCall("s3", operation, params, None, region, "rest-xml", signed=False)


def _signed_call(environ: dict[str, Any], headers: Mapping[str, str], access_key: str, region: str,
                 service: str) -> ParsedCall:
    host, path = headers.get("host", ""), str(environ.get("PATH_INFO", ""))
    if service == "s3" and (path.startswith(_S3CONTROL_PATH) or "s3-control" in host):
        operation, params = _s3control_call(environ, headers)
        return ParsedCall("s3control", operation, params, access_key, region, "rest-xml")
    if service == "s3":
        _buffer_form(environ)
        operation, params = _s3_call(environ, headers)
        return ParsedCall(service, operation, params, access_key, region, "rest-xml")
    found = _api_call(service, environ, headers)
    return ParsedCall(service, found.operation, found.params, access_key, region, _protocol(service, headers))


def _guess_protocol(headers: Mapping[str, str], environ: Mapping[str, Any]) -> tuple[str, str]:
    """(service, protocol) to answer a request whose credential cannot be read."""
    target = headers.get("x-amz-target", "")
    if target:
        return next((name for prefix, name in _TARGET_SERVICES if target.startswith(prefix)), "kms"), "json"
    if "Action=" in str(environ.get("QUERY_STRING", "")):
        return "sts", "query"
    return "s3", "rest-xml"


def parse_call(environ: dict[str, Any]) -> ParsedCall | None:
    """The call an AWS HTTP request makes (unsigned: the anonymous caller's), or None for moto's
    own control API. A request the gate cannot read exactly as moto's server will is a call with
    a ``refusal``: answered with that error, never passed on."""
    if str(environ.get("PATH_INFO", "")).startswith(_MOTO_API):
        return None
    headers = _headers(environ)
    try:
        credential = _credential(environ)
    except Malformed as error:
        service, protocol = _guess_protocol(headers, environ)
        return _refused(service, protocol, error, None, DEFAULT_REGION)
    if credential is None:
        return _unsigned_call(environ, headers)
    access_key, region, service = credential
    try:
        call = _signed_call(environ, headers, access_key, region, service)
    except Malformed as error:
        return _refused(service, _protocol(service, headers), error, access_key, region)
    problem = _disagreement(call, environ)
    return call if problem is None else _refused(call.service, call.protocol, problem, access_key, region)


def _environ_key(name: str) -> str:
    return f"HTTP_{name.upper().replace('-', '_')}"


def _pop_headers(environ: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The per-call transport headers (transport.py) and their proof, removed before moto sees them."""
    carried = {name: str(environ.pop(_environ_key(name))) for name in TRANSPORT_HEADERS if _environ_key(name) in environ}
    proof = environ.pop(_environ_key(TRANSPORT_MAC_HEADER), None)
    return carried, None if proof is None else str(proof)


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _json_error(error: AwsError) -> tuple[list[tuple[str, str]], bytes]:
    content_type, prefix = _JSON_TYPES.get(error.service, ("application/x-amz-json-1.1", ""))
    body = json.dumps({"__type": f"{prefix}{error.code}", "message": error.message}).encode()
    return [("Content-Type", content_type), ("x-amzn-ErrorType", error.code)], body


def _query_error(error: AwsError) -> tuple[list[tuple[str, str]], bytes]:
    namespace = _QUERY_NS.get(error.service, "")
    kind = "Sender" if error.http_status < 500 else "Receiver"
    body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{error.request_id}</RequestId></ErrorResponse>")
    return [("Content-Type", "text/xml")], body.encode()


def _s3_error(error: AwsError) -> tuple[list[tuple[str, str]], bytes]:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
            f"<RequestId>{error.request_id}</RequestId><HostId>{error.request_id}</HostId></Error>")
    return [("Content-Type", "application/xml"), ("x-amz-request-id", error.request_id)], body.encode()


def _xml_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, list):
        inner = "".join(_xml_value("member", item) for item in value)
    elif isinstance(value, dict) and name in _XML_MAPS:
        inner = "".join(f"<entry><key>{escape(str(k))}</key><value>{escape(str(v))}</value></entry>"
                        for k, v in value.items())
    elif isinstance(value, dict):
        inner = "".join(_xml_value(str(k), v) for k, v in value.items())
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"


def render_query_result(service: str, operation: str, result: Mapping[str, Any],
                        request_id: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """A query-protocol success response (``<OpResponse><OpResult>...``)."""
    inner = "".join(_xml_value(k, v) for k, v in result.items())
    body = (f'<{operation}Response xmlns="{_QUERY_NS.get(service, "")}"><{operation}Result>{inner}'
            f"</{operation}Result><ResponseMetadata><RequestId>{request_id}</RequestId>"
            f"</ResponseMetadata></{operation}Response>").encode()
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id),
               ("Content-Length", str(len(body)))]
    return "200 OK", headers, body


def render_error(error: AwsError, protocol: str, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an AWS error in the request's protocol."""
    render = {"json": _json_error, "query": _query_error}.get(protocol, _s3_error)
    headers, body = render(error)
    if method == "HEAD":
        body = b""
    headers = headers + [("x-amzn-RequestId", error.request_id), ("Content-Length", str(len(body)))]
    return _status(error.http_status), headers, body


def _announcing(start_response: StartResponse, value: str) -> StartResponse:
    """``start_response`` adding :data:`PROPAGATION_HEADER` to every response."""
    def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
        return start_response(status, [*headers, (PROPAGATION_HEADER, value)], *rest)

    return start


#: Where GateMiddleware leaves, in the request's WSGI environ (PEP 3333: an extension's keys carry
#: a dotted prefix), the call it read, its authentication refusal, and the gate's verdict: a
#: middleware around it (serve's RequestLog) reads them once the request is answered.
CALL_KEY, REFUSAL_KEY, VERDICT_KEY = "orchestrate.call", "orchestrate.refusal", "orchestrate.verdict"
#: Why the request's transport headers were ignored (transport_proof.py), for serve's log.
TRANSPORT_REFUSAL_KEY = "orchestrate.transport-refusal"


class GateMiddleware:
    """WSGI middleware: decide each signed AWS request before the wrapped app runs it.

    With ``propagation``, every response announces it (:data:`PROPAGATION_HEADER`), and when the
    gate's world is a :class:`RecordingWorld` (``backends/lagging_world.py``), each allowed call that can change authorization is
    recorded around moto's run of it (orchestrator/authz/propagation.py).

    With an ``authenticator`` (authenticate.py; ``serve`` always has one), a signed request is
    authenticated before the gate decides it: a key no one holds, or a signature its secret does
    not make, is answered with AWS's error and never reaches the gate or moto. The transport
    headers (transport.py) are honoured only with the authenticator's proof that orchestrate's own
    identity chose them (transport_proof.py); otherwise removed and ignored, never an error."""

    def __init__(self, app: Callable[..., Iterable[bytes]], gate: Gate,
                 on_verdict: Callable[[ParsedCall, CallVerdict], None] | None = None,
                 propagation: Propagation | None = None, authenticator: Authenticator | None = None) -> None:
        self.app = app
        self.gate = gate
        self.on_verdict = on_verdict
        self.propagation = propagation
        self.authenticator = authenticator
        world = getattr(gate, "world", None)
        self.lagging = world if isinstance(world, RecordingWorld) else None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.propagation is not None:
            start_response = _announcing(start_response, self.propagation.header_value())
        call = parse_call(environ)
        if call is None:
            return self.app(environ, start_response)
        environ[CALL_KEY] = call  # for a log around the gate (serve's RequestLog): the environ is the request's own
        refused = self._authentication(call, environ) or call.refusal  # AWS authenticates first
        if refused is not None:  # unauthentic, or not read as moto would read it: never run (wire.py)
            environ[REFUSAL_KEY] = refused
            method = str(environ.get("REQUEST_METHOD", "")).upper()
            return self._respond(start_response, render_error(refused, call.protocol, method))
        transport = self._transport(environ)
        gate = self.gate if transport.empty else self.gate.for_call(transport)
        asked = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        verdict = self._check(gate, call, str(asked) if asked else None)
        environ[VERDICT_KEY] = verdict
        if self.on_verdict is not None:
            self.on_verdict(call, verdict)
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        if verdict.error is not None:
            return self._respond(start_response, render_error(verdict.error, call.protocol, method))
        if verdict.account is not None:  # moto serves it there; a client's own header is replaced
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = verdict.account
        local = self._local_answer(call)
        if local is None:
            return self._run(call, verdict, environ, start_response)
        if isinstance(local, AwsError):
            return self._respond(start_response, render_error(local, call.protocol, method))
        return self._respond(start_response,
                             render_query_result(call.service, call.operation, local, verdict.request_id))

    def _transport(self, environ: dict[str, Any]) -> Transport:
        """The transport the request's headers choose, honoured only when proved orchestrate's
        (transport_proof.py); else removed and ignored, the gate's own view kept, and why left for
        serve's log. Without an authenticator no administrator's secret is known: never honoured."""
        carried, proof = _pop_headers(environ)
        if not carried:
            return Transport()
        refusal = ("no administrator keys to prove it" if self.authenticator is None
                   else self.authenticator.transport_refusal(environ, carried, proof))
        if refusal is not None:
            environ[TRANSPORT_REFUSAL_KEY] = refusal
            return Transport()
        return pop_transport(carried)

    def _authentication(self, call: ParsedCall, environ: dict[str, Any]) -> AwsError | None:
        """The authenticator's refusal of a signed call (before the transport headers go: a client
        may have signed them); a body too long to hash is refused as parse_call refuses it."""
        if self.authenticator is None or not call.signed:
            return None
        try:
            return self.authenticator.refusal(environ, call.service, call.protocol)
        except Malformed as error:
            return AwsError(error.code, error.message, error.status, "request", call.service, new_request_id())

    def _check(self, gate: Gate, call: ParsedCall, asked: str | None) -> CallVerdict:
        service = serving(call.service) if self.lagging is not None else contextlib.nullcontext()
        with service:
            return gate.check(call.service, call.operation, call.params, call.access_key_id, call.region, asked,
                              signed=call.signed)

    def _run(self, call: ParsedCall, verdict: CallVerdict, environ: dict[str, Any],
             start_response: StartResponse) -> Iterable[bytes]:
        """moto answers an allowed call; one that can change authorization is recorded around it
        (moto's app has made the change by the time it returns its response)."""
        if self.lagging is None or not mutates(call.service, call.operation):
            return self.app(environ, start_response)
        account = verdict.account or self.lagging.account_for_access_key(call.access_key_id)
        with self.lagging.recording(call.service, call.params, call.region, account):
            return self.app(environ, start_response)

    def _local_answer(self, call: ParsedCall) -> dict[str, Any] | AwsError | None:
        if call.protocol != "query" and call.service != "kms":  # kms: the gate's Verify answer (Gate.answer)
            return None
        params = unflatten_query(call.params) if call.protocol == "query" else call.params
        return self.gate.answer(call.service, call.operation, params)

    @staticmethod
    def _respond(start_response: StartResponse,
                 rendered: tuple[str, list[tuple[str, str]], bytes]) -> list[bytes]:
        status, headers, body = rendered
        start_response(status, headers)
        return [body]


def make_gated_server_app(gate: Gate,
                          on_verdict: Callable[[ParsedCall, CallVerdict], None] | None = None,
                          admins: AdminKeys | None = None) -> GateMiddleware:
    """moto's server app (as ``ThreadedMotoServer`` builds it) behind the gate, authenticating
    every signed request (authenticate.py); orchestrate's own identity signs with ``admins``
    (default: the endpoint's default credentials, the environment's pair, and moto's ``testing``)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from orchestrator.authz.gate.authenticate import ENDPOINT_ADMIN, MOTO_TESTING, AdminKeys, Authenticator

    chosen = admins or AdminKeys((ENDPOINT_ADMIN, MOTO_TESTING))
    authenticator = Authenticator(gate.world, chosen, read_body)  # type: ignore[arg-type]
    return GateMiddleware(DomainDispatcherApplication(create_backend_app), gate, on_verdict, authenticator=authenticator)


class GatedMotoServer:
    """Like ``moto.server.ThreadedMotoServer``, serving the gated app (port 0: a free port)."""

    def __init__(self, ip_address: str, port: int, gate: Gate,
                 on_verdict: Callable[[ParsedCall, CallVerdict], None] | None = None,
                 admins: AdminKeys | None = None) -> None:
        self.app = make_gated_server_app(gate, on_verdict, admins)
        self._address = (ip_address, port)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> "GatedMotoServer":
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        host, port = self._address
        self._server = make_server(host, port, self.app, True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
