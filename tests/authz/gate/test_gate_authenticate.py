"""Authentication before authorization under `orchestrate serve` (issue 21): a deleted, unknown or
inactive access key is refused with the service's error instead of acting as orchestrate's admin,
every signature is checked with its key's secret (header and presigned), session credentials need
their token, and orchestrate's own identity signs with DEFAULT_ADMIN, the environment's pair or
`--admin-key` (`--any-key-as-admin` takes any key serve does not hold). One serve per module; the
time-dependent refusals (expired sessions, skewed clocks, expired URLs) are decided in-process on
requests botocore signed."""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from orchestrator.authz.gate.authenticate import ENDPOINT_ADMIN, AdminKeys, Authenticator, parse_admin_key
from orchestrator.authz.gate.wsgi import read_body
from orchestrator.authz.world import KeySecret
from orchestrator.backends.endpoint import DEFAULT_ADMIN, _endpoint_host
from orchestrator.backends.serve import admin_line, spawned

REGION, ACCOUNT, TABLE = "us-east-1", "123456789012", "orders"
ADMIN = (DEFAULT_ADMIN.access_key_id, DEFAULT_ADMIN.secret_access_key)
NAMED_ADMIN = ("AKIATESTNAMEDADMIN01", "named-admin-secret/with+signs")
UNKNOWN = ("AKIAUNKNOWNKEY000001", "whatever-secret")
INVALID_TOKEN = "The security token included in the request is invalid."
S3_UNKNOWN = "The AWS Access Key Id you provided does not exist in our records."


def client(url: str, service: str, key: tuple[str, str] = ADMIN, token: str | None = None, **config: Any) -> Any:
    made = boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}, **config))
    if service == "s3control":  # as EndpointBackend does: the endpoint's own host, signed so
        made.meta.events.register("before-sign.s3-control.*", _endpoint_host)
    return made


def refused(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error, meta = raised.value.response["Error"], raised.value.response["ResponseMetadata"]
    return error["Code"], meta["HTTPStatusCode"], error.get("Message", "")


@dataclass(frozen=True)
class World:
    url: str
    tester: tuple[str, str]
    deleted: tuple[str, str]
    role_arn: str


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_DATA = {"Effect": "Allow", "Action": ["dynamodb:*", "kms:*", "s3:*", "sts:GetCallerIdentity", "sts:AssumeRole"], "Resource": "*"}


def _set_up(url: str) -> World:
    """A CMK-encrypted table with an item, user `tester` allowed on it with one live key and one
    deleted key, and a role any principal of the account may assume."""
    iam, kms, ddb = client(url, "iam"), client(url, "kms"), client(url, "dynamodb")
    key = kms.create_key(Description="orders CMK")["KeyMetadata"]["Arn"]
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "order-1"}, "total": {"N": "42"}})
    iam.create_user(UserName="tester")
    iam.put_user_policy(UserName="tester", PolicyName="data", PolicyDocument=_policy(ALLOW_DATA))
    live, gone = (iam.create_access_key(UserName="tester")["AccessKey"] for _ in range(2))
    iam.delete_access_key(UserName="tester", AccessKeyId=gone["AccessKeyId"])
    trust = _policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader", PolicyName="data", PolicyDocument=_policy(ALLOW_DATA))
    return World(url, (live["AccessKeyId"], live["SecretAccessKey"]), (gone["AccessKeyId"], gone["SecretAccessKey"]), role)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    log: Path = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w") as stderr, spawned(stderr, "--admin-key", ":".join(NAMED_ADMIN)) as url:
        yield _set_up(url)


# ---- who may sign ----------------------------------------------------------------------------

def test_the_deleted_key_of_tester_reads_nothing_and_makes_no_key(world: World) -> None:
    ddb = client(world.url, "dynamodb", world.deleted)
    assert refused(ddb.get_item, TableName=TABLE, Key={"pk": {"S": "order-1"}}) == \
        ("UnrecognizedClientException", 400, INVALID_TOKEN)
    assert refused(client(world.url, "kms", world.deleted).list_keys)[:2] == ("UnrecognizedClientException", 400)
    iam = client(world.url, "iam", world.deleted)
    assert refused(iam.create_access_key, UserName="tester") == ("InvalidClientTokenId", 403, INVALID_TOKEN)
    assert refused(client(world.url, "s3", world.deleted).list_buckets) == ("InvalidAccessKeyId", 403, S3_UNKNOWN)
    keys = client(world.url, "iam").list_access_keys(UserName="tester")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [world.tester[0]]  # no key was made


def test_an_unknown_key_and_the_key_of_a_deleted_user_are_refused(world: World) -> None:
    assert refused(client(world.url, "sts", UNKNOWN).get_caller_identity) == ("InvalidClientTokenId", 403, INVALID_TOKEN)
    assert refused(client(world.url, "s3", UNKNOWN).list_buckets)[:2] == ("InvalidAccessKeyId", 403)
    iam = client(world.url, "iam")
    iam.create_user(UserName="leaver")
    left = iam.create_access_key(UserName="leaver")["AccessKey"]
    iam.delete_user(UserName="leaver")  # moto lets it go with its key still indexed; AWS would refuse
    sts = client(world.url, "sts", (left["AccessKeyId"], left["SecretAccessKey"]))
    assert refused(sts.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)


def test_an_inactive_key_is_refused_until_it_is_active_again(world: World) -> None:
    iam, sts = client(world.url, "iam"), client(world.url, "sts", world.tester)
    iam.update_access_key(UserName="tester", AccessKeyId=world.tester[0], Status="Inactive")
    try:
        assert refused(sts.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)
        assert refused(client(world.url, "dynamodb", world.tester).list_tables)[:2] == ("UnrecognizedClientException", 400)
    finally:
        iam.update_access_key(UserName="tester", AccessKeyId=world.tester[0], Status="Active")
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/tester"


@pytest.mark.parametrize("service, operation, params, expected", [
    ("iam", "list_users", {}, ("SignatureDoesNotMatch", 403)),
    ("sts", "get_caller_identity", {}, ("SignatureDoesNotMatch", 403)),
    ("dynamodb", "get_item", {"TableName": TABLE, "Key": {"pk": {"S": "order-1"}}}, ("InvalidSignatureException", 400)),
    ("kms", "list_keys", {}, ("InvalidSignatureException", 400)),
    ("s3", "list_buckets", {}, ("SignatureDoesNotMatch", 403)),
    ("s3", "head_bucket", {"Bucket": "any-bucket"}, ("403", 403)),  # HEAD: the status alone, no body
])
def test_a_wrong_secret_fails_the_signature_in_each_protocol(world: World, service: str, operation: str,
                                                             params: dict[str, Any], expected: tuple[str, int]) -> None:
    for key_id in (world.tester[0], ADMIN[0]):  # a user's key, and orchestrate's own
        made = client(world.url, service, (key_id, "not-the-secret"))
        assert refused(getattr(made, operation), **params)[:2] == expected


def test_orchestrates_default_and_named_admin_keys_are_its_own_identity(world: World) -> None:
    for pair in (ADMIN, NAMED_ADMIN):
        assert client(world.url, "sts", pair).get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:user/moto"
    assert refused(client(world.url, "sts", (NAMED_ADMIN[0], "guess")).get_caller_identity)[0] == "SignatureDoesNotMatch"


def test_session_credentials_work_and_a_tampered_or_missing_token_fails(world: World) -> None:
    granted = client(world.url, "sts", world.tester).assume_role(RoleArn=world.role_arn, RoleSessionName="ses")["Credentials"]
    pair, token = (granted["AccessKeyId"], granted["SecretAccessKey"]), granted["SessionToken"]
    session = client(world.url, "sts", pair, token).get_caller_identity()
    assert session["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/ses"
    got = client(world.url, "dynamodb", pair, token).get_item(TableName=TABLE, Key={"pk": {"S": "order-1"}})
    assert got["Item"]["total"] == {"N": "42"}
    tampered = token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
    assert refused(client(world.url, "sts", pair, tampered).get_caller_identity)[:2] == ("InvalidClientTokenId", 403)
    ddb = client(world.url, "dynamodb", pair, tampered)
    assert refused(ddb.get_item, TableName=TABLE, Key={"pk": {"S": "order-1"}})[:2] == ("UnrecognizedClientException", 400)
    assert refused(client(world.url, "s3", pair, tampered).list_buckets)[:2] == ("InvalidToken", 400)
    assert refused(client(world.url, "kms", pair).list_keys)[:2] == ("UnrecognizedClientException", 400)  # no token


# ---- what boto3 sends verifies -----------------------------------------------------------------

KEYS = ["plain", "with space", "100% sure", "ünïcödé/✓ file", "a+b=c", "tilde~name", "dir/sub/file.txt",
        "q?x=1&y=2", "star*(p)!'", "semi;colon,comma", "//leading", "dots/../up"]


def test_s3_objects_with_awkward_keys_lists_and_presigned_urls_verify(world: World) -> None:
    s3 = client(world.url, "s3", world.tester)
    s3.create_bucket(Bucket="awkward-keys")
    for key in KEYS:
        s3.put_object(Bucket="awkward-keys", Key=key, Body=key.encode())
        assert s3.get_object(Bucket="awkward-keys", Key=key)["Body"].read() == key.encode(), key
        assert s3.head_object(Bucket="awkward-keys", Key=key)["ContentLength"] == len(key.encode())
    for prefix, count in (("dir/", 1), ("ünï", 1), ("with sp", 1), ("", len(KEYS))):
        assert s3.list_objects_v2(Bucket="awkward-keys", Prefix=prefix)["KeyCount"] == count, prefix
    assert "dir/" in [p["Prefix"] for p in s3.list_objects_v2(Bucket="awkward-keys", Delimiter="/")["CommonPrefixes"]]
    presigning = client(world.url, "s3", world.tester, signature_version="s3v4")
    for key in ("with space", "ünïcödé/✓ file", "a+b=c", "100% sure"):
        url = presigning.generate_presigned_url("get_object", Params={"Bucket": "awkward-keys", "Key": key})
        assert urllib.request.urlopen(url, timeout=10).read() == key.encode(), key
    url = presigning.generate_presigned_url("put_object", Params={"Bucket": "awkward-keys", "Key": "up load"})
    octets = {"Content-Type": "application/octet-stream"}  # urllib's default would be a form
    urllib.request.urlopen(urllib.request.Request(url, data=b"put", method="PUT", headers=octets), timeout=10).read()
    assert s3.get_object(Bucket="awkward-keys", Key="up load")["Body"].read() == b"put"
    forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(urllib.request.Request(forged, data=b"x", method="PUT", headers=octets), timeout=10)
    assert denied.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in denied.value.read()


def test_a_multipart_upload_and_s3_control_verify(world: World) -> None:
    s3 = client(world.url, "s3")
    s3.create_bucket(Bucket="multipart")
    upload = s3.create_multipart_upload(Bucket="multipart", Key="big file")["UploadId"]  # ?uploads: a name alone
    part = s3.upload_part(Bucket="multipart", Key="big file", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    s3.complete_multipart_upload(Bucket="multipart", Key="big file", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    assert s3.get_object(Bucket="multipart", Key="big file")["ContentLength"] == 1024
    forged = client(world.url, "s3", (ADMIN[0], "forged"))
    assert refused(forged.create_multipart_upload, Bucket="multipart", Key="big file")[0] == "SignatureDoesNotMatch"
    control = client(world.url, "s3control")
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert control.get_public_access_block(AccountId=ACCOUNT)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    forged_control = client(world.url, "s3control", (ADMIN[0], "forged"))
    assert refused(forged_control.get_public_access_block, AccountId=ACCOUNT)[:2] == ("SignatureDoesNotMatch", 403)


def test_json_and_query_calls_verify_with_bodies(world: World) -> None:
    kms = client(world.url, "kms", world.tester)
    key = client(world.url, "kms").create_key(Description="ünïcödé ✓ description")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext="päyload ✓".encode())["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == "päyload ✓".encode()
    forged = client(world.url, "kms", (world.tester[0], "forged"))
    assert refused(forged.decrypt, CiphertextBlob=blob)[:2] == ("InvalidSignatureException", 400)
    ddb = client(world.url, "dynamodb", world.tester)
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "ordre ✓ & co"}, "note": {"S": "a+b=c %20"}})
    assert ddb.query(TableName=TABLE, KeyConditionExpression="pk = :k",
                     ExpressionAttributeValues={":k": {"S": "ordre ✓ & co"}})["Count"] == 1
    iam = client(world.url, "iam")
    iam.create_user(UserName="pathed+user=x", Path="/team/a b/")
    assert iam.get_user(UserName="pathed+user=x")["User"]["Path"] == "/team/a b/"
    forged = client(world.url, "iam", (ADMIN[0], "forged"))
    assert refused(forged.create_user, UserName="forged+user", Path="/team/a b/")[:2] == ("SignatureDoesNotMatch", 403)


# ---- --any-key-as-admin -------------------------------------------------------------------------

def test_any_key_as_admin_takes_unknown_keys_but_verifies_the_keys_moto_holds(tmp_path: Path) -> None:
    with (tmp_path / "serve.log").open("w") as stderr, spawned(stderr, "--any-key-as-admin") as url:
        assert client(url, "sts", UNKNOWN).get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:user/moto"
        iam = client(url, "iam", UNKNOWN)
        iam.create_user(UserName="u")
        made = iam.create_access_key(UserName="u")["AccessKey"]
        assert refused(client(url, "sts", (made["AccessKeyId"], "wrong")).get_caller_identity)[0] == "SignatureDoesNotMatch"
        iam.update_access_key(UserName="u", AccessKeyId=made["AccessKeyId"], Status="Inactive")
        sts = client(url, "sts", (made["AccessKeyId"], made["SecretAccessKey"]))
        assert refused(sts.get_caller_identity)[0] == "InvalidClientTokenId"  # inactive: still refused


# ---- in-process: time, expiry, and the admin keys' secrecy ------------------------------------------

class _Keys:
    """A key store holding one key."""

    def __init__(self, key_id: str, known: KeySecret) -> None:
        self.key_id, self.known = key_id, known

    def secret_for_access_key(self, access_key_id: str) -> KeySecret | None:
        return self.known if access_key_id == self.key_id else None


def _environ(request: Any) -> dict[str, Any]:
    """The WSGI environ werkzeug makes of a request botocore signed."""
    parts = urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    environ: dict[str, Any] = {"REQUEST_METHOD": request.method, "PATH_INFO": unquote(parts.path),
                               "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
                               "QUERY_STRING": parts.query, "wsgi.input": io.BytesIO(body),
                               "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": parts.netloc}
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def _signed(service: str, signer: Any = SigV4Auth, token: str | None = "the-token", **kwargs: Any) -> dict[str, Any]:
    url = "http://127.0.0.1:4566/bucket/key%20one" if service == "s3" else "http://127.0.0.1:4566/"
    body = b"" if service == "s3" else b'{"KeyId": "k"}'
    request = AWSRequest("GET" if service == "s3" else "POST", url, data=body, headers={"Content-Type": "application/x-amz-json-1.1"})
    signer(BotoCredentials("ASIATEMPORARYKEY0001", "temporary-secret", token), service, REGION, **kwargs).add_auth(request)
    return _environ(request.prepare() if signer is S3SigV4QueryAuth else request)


def _authenticator(offset: timedelta = timedelta(0), expires_in: timedelta = timedelta(hours=1)) -> Authenticator:
    now = datetime.now(timezone.utc)
    known = KeySecret("temporary-secret", "the-token", now + expires_in)
    return Authenticator(_Keys("ASIATEMPORARYKEY0001", known), AdminKeys(environment=False), read_body,
                         clock=lambda: datetime.now(timezone.utc) + offset)


def _code(error: Any) -> tuple[str, int] | None:
    return None if error is None else (error.code, error.http_status)


def test_a_fresh_signature_passes_in_process_and_its_body_is_put_back() -> None:
    environ = _signed("kms")
    assert _authenticator().refusal(environ, "kms", "json") is None
    assert environ["wsgi.input"].read() == b'{"KeyId": "k"}'
    assert _authenticator().refusal(_signed("s3", S3SigV4Auth), "s3", "rest-xml") is None


def test_a_path_or_query_encoded_otherwise_than_signed_verifies_in_aws_canonical_form() -> None:
    """A client may percent-encode more than it must (AWS re-encodes the decoded path and query
    before it computes the signature); a different path is still a mismatch."""
    environ = _signed("s3", S3SigV4Auth)
    environ["RAW_URI"] = "/bucket/k%65y%20one"
    assert _authenticator().refusal(environ, "s3", "rest-xml") is None
    environ["RAW_URI"] = "/bucket/key%20two"
    assert _code(_authenticator().refusal(environ, "s3", "rest-xml")) == ("SignatureDoesNotMatch", 403)


def test_expired_session_credentials_are_refused_in_each_protocol() -> None:
    expired = _authenticator(expires_in=-timedelta(seconds=1))
    assert _code(expired.refusal(_signed("kms"), "kms", "json")) == ("ExpiredTokenException", 400)
    assert _code(expired.refusal(_signed("sts"), "sts", "query")) == ("ExpiredToken", 403)
    assert _code(expired.refusal(_signed("s3", S3SigV4Auth), "s3", "rest-xml")) == ("ExpiredToken", 400)


def test_a_request_time_more_than_15_minutes_off_is_refused() -> None:
    for offset in (timedelta(minutes=16), -timedelta(minutes=16)):
        late = _authenticator(offset)
        assert _code(late.refusal(_signed("s3", S3SigV4Auth), "s3", "rest-xml")) == ("RequestTimeTooSkewed", 403)
        error = late.refusal(_signed("kms"), "kms", "json")
        assert _code(error) == ("InvalidSignatureException", 400)
        assert error is not None and error.message.startswith("Signature expired" if offset > timedelta(0) else "Signature not yet current")
    assert _authenticator(timedelta(minutes=14)).refusal(_signed("kms"), "kms", "json") is None


def test_a_presigned_url_past_its_expiry_is_refused() -> None:
    environ = _signed("s3", S3SigV4QueryAuth, expires=60)
    assert _authenticator(timedelta(seconds=30)).refusal(environ, "s3", "rest-xml") is None
    error = _authenticator(timedelta(seconds=90)).refusal(_signed("s3", S3SigV4QueryAuth, expires=60), "s3", "rest-xml")
    assert error is not None and (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_admin_secrets_are_never_shown() -> None:
    admins = AdminKeys((ENDPOINT_ADMIN, NAMED_ADMIN))
    assert NAMED_ADMIN[1] not in repr(admins) and ENDPOINT_ADMIN[1] not in repr(admins)
    assert NAMED_ADMIN[0] in admin_line(admins) and NAMED_ADMIN[1] not in admin_line(admins)
    assert parse_admin_key("ID:se:cret") == ("ID", "se:cret")
    with pytest.raises(ValueError) as bad:
        parse_admin_key("no-colon-secret")
    assert "no-colon-secret" not in str(bad.value)
    assert repr(KeySecret("s3cr3t", "t0ken")).count("s3cr3t") == 0


def test_the_gate_names_the_endpoint_default_admin_as_the_client_does() -> None:
    assert ENDPOINT_ADMIN == (DEFAULT_ADMIN.access_key_id, DEFAULT_ADMIN.secret_access_key)


def test_serve_hands_its_admin_keys_and_any_key_flag_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import orchestrator.backends.serve as serve_module
    from orchestrator.cli import main

    seen: list[Any] = []
    monkeypatch.setattr(serve_module, "serve", lambda *args: seen.append(args[5]) or 0)  # admins, before log_format
    assert main(["serve", "--admin-key", "AKIAONE:one", "--admin-key", "AKIATWO:two:x", "--any-key-as-admin"]) == 0
    assert main(["serve"]) == 0
    assert seen == [AdminKeys((ENDPOINT_ADMIN, ("AKIAONE", "one"), ("AKIATWO", "two:x")), any_key=True), AdminKeys()]
    assert main(["serve", "--admin-key", "missing-secret"]) == 2 and len(seen) == 2
