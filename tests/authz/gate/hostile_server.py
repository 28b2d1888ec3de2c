"""An in-process gated moto server that records both sides of every request (issue 21).

The gate's side comes from ``GateMiddleware``'s ``on_verdict`` (its ParsedCall and verdict); moto's
side from hooks on moto's own dispatch: ``BaseResponse.call_action`` (the operation the JSON and
query services run, with the parameters moto read), and for S3 the ``S3Response`` handler that
ran (with the bucket and key moto used) and every ``S3Backend`` method that changes state.
Requests are hand-made (http.client: the bytes as written), signed with SigV4 by botocore.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gate_scenario import REGION
from moto.core.responses import BaseResponse
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

from orchestrator.authz.gate.core import CallVerdict, Gate
from orchestrator.authz.gate.wsgi import GatedMotoServer, ParsedCall
from orchestrator.backends.moto_world import MotoWorld

#: moto's S3 handlers named otherwise than the S3 operation they serve
S3_HANDLER_ALIASES = {"all_buckets": "ListBuckets", "get_bucket_tags": "GetBucketTagging",
                      "get_bucket_lifecycle": "GetBucketLifecycleConfiguration",
                      "get_bucket_notification": "GetBucketNotificationConfiguration",
                      "put_bucket_lifecycle": "PutBucketLifecycleConfiguration"}
_S3_HELPERS = {"ambiguous_dispatch", "ambiguous_response", "bucket_dispatch", "bucket_response", "key_dispatch",
               "key_response", "get_safe_path", "is_delete_keys", "parse_bucket_name_from_url", "parse_key_name",
               "setup_class", "subdomain_based_buckets", "dispatch", "backend", "should_autoescape",
               "is_access_point"}
_MUTATING = re.compile(r"(put|create|delete|complete|abort|upload|copy|set)_")


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def s3_operation(handler: str) -> str:
    """The S3 operation a moto handler or backend method serves."""
    return S3_HANDLER_ALIASES.get(handler) or "".join(part.title() for part in handler.split("_"))


@dataclass
class MotoRan:
    """What moto did for one request."""

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    bucket: str | None = None
    key: str | None = None
    mutations: list[str] = field(default_factory=list)


class Recorder:
    """Both sides of each request, reset between requests (requests are sent one at a time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.verdicts: list[tuple[ParsedCall, CallVerdict]] = []
        self.moto: list[MotoRan] = []
        self.mutations: list[str] = []

    def reset(self) -> None:
        with self.lock:
            self.verdicts, self.moto, self.mutations = [], [], []

    def verdict(self, call: ParsedCall, verdict: CallVerdict) -> None:
        with self.lock:
            self.verdicts.append((call, verdict))

    def ran(self, record: MotoRan) -> None:
        with self.lock:
            self.moto.append(record)

    def mutated(self, name: str) -> None:
        with self.lock:
            self.mutations.append(name)


def _moto_params(response: BaseResponse) -> dict[str, Any]:
    if response.service_name in ("kms", "dynamodb"):
        try:
            return json.loads(response.raw_body or b"{}")
        except ValueError:
            return {"<unreadable>": True}
    values = response.normalized_request.values
    return {name: values.get(name) for name in values.keys()}


def _hook_call_action(recorder: Recorder, patch: pytest.MonkeyPatch) -> None:
    original = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        action = str(self._get_action() or "")
        if action:  # moto answers 404 and runs nothing for an operation its router does not know
            recorder.ran(MotoRan(str(self.service_name), action, _moto_params(self)))
        return original(self)

    patch.setattr(BaseResponse, "call_action", call_action)


def _hook_s3(recorder: Recorder, patch: pytest.MonkeyPatch) -> None:
    for name, member in list(vars(S3Response).items()):
        if name.startswith("_") or name in _S3_HELPERS or not callable(member) or isinstance(member, (staticmethod, classmethod)):
            continue
        patch.setattr(S3Response, name, _s3_handler(recorder, name, member))
    for name, member in list(vars(S3Backend).items()):
        if _MUTATING.match(name) and callable(member):
            patch.setattr(S3Backend, name, _s3_mutation(recorder, name, member))


def _s3_handler(recorder: Recorder, name: str, original: Any) -> Any:
    def handler(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        try:
            key = self.parse_key_name() if name != "all_buckets" else ""
        except Exception:  # noqa: BLE001 - a bucket-level request may have no key to parse
            key = ""
        recorder.ran(MotoRan("s3", s3_operation(name), bucket=getattr(self, "bucket_name", None), key=key))
        return original(self, *args, **kwargs)

    return handler


def _s3_mutation(recorder: Recorder, name: str, original: Any) -> Any:
    def mutation(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        recorder.mutated(name)
        return original(self, *args, **kwargs)

    return mutation


@contextlib.contextmanager
def recording_server() -> Iterator[tuple[GatedMotoServer, Recorder]]:
    """The gated server with both sides recorded, NO_PROXY set for it while it runs."""
    recorder, patch = Recorder(), pytest.MonkeyPatch()
    for name, value in {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}.items():
        patch.setenv(name, value)
    _hook_call_action(recorder, patch)
    _hook_s3(recorder, patch)
    server = GatedMotoServer("127.0.0.1", 0, Gate(REGION, MotoWorld()), on_verdict=recorder.verdict).start()
    try:
        yield server, recorder
    finally:
        server.stop()
        patch.undo()


@dataclass(frozen=True)
class Keys:
    """An access key pair."""

    key_id: str
    secret: str


def sign(keys: Keys, service: str, method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """SigV4 headers (botocore) for the request as it will be sent."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    auth = S3SigV4Auth if service == "s3" else SigV4Auth
    auth(Credentials(keys.key_id, keys.secret), service, REGION).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(server: GatedMotoServer, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Answer:
    """One raw HTTP request (``target`` sent byte for byte) and its answer."""
    host, port = server.get_host_and_port()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"{host}:{port}", "Content-Length": str(len(body)), **headers}
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def signed_send(server: GatedMotoServer, keys: Keys | None, service: str, method: str, target: str,
                headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
    """``send``, signed as ``keys`` for ``service`` (unsigned when ``keys`` is None)."""
    headers = dict(headers or {})
    if keys is not None:
        host, port = server.get_host_and_port()
        signed = sign(keys, service, method, f"http://{host}:{port}{target}", headers, body)
        headers.update({k: v for k, v in signed.items() if k.lower() in ("authorization", "x-amz-date",
                                                                             "x-amz-content-sha256")})
    return send(server, method, target, headers, body)


def reset(server: GatedMotoServer) -> None:
    send(server, "POST", "/moto-api/reset", {})


def client(server: GatedMotoServer, keys: Keys, service: str) -> Any:
    return boto3.client(service, endpoint_url=server.endpoint_url, region_name=REGION,
                        aws_access_key_id=keys.key_id, aws_secret_access_key=keys.secret)


def user(server: GatedMotoServer, orchestrator: Keys, name: str, policy: dict[str, Any] | None = None) -> Keys:
    """An IAM user with an inline policy (or none) and an access key."""
    iam = client(server, orchestrator, "iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


ORCHESTRATOR = Keys("AKIAORCHESTRATEADMIN0", "orchestrate-endpoint-admin-secret")  # endpoint.DEFAULT_ADMIN: serve authenticates
__all__ = ["Answer", "Keys", "MotoRan", "ORCHESTRATOR", "Recorder", "client", "recording_server", "reset", "send",
           "signed_send", "snake", "s3_operation", "user"]
