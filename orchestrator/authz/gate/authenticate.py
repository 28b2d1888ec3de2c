"""Authentication before authorization under ``orchestrate serve``: who signed a request, proved.

AWS authenticates a request before it authorizes it (IAM User Guide, "How IAM works": "a
principal must be authenticated (signed in to AWS) using their credentials to send a request to
AWS"): the access key must be one AWS holds and active, the Signature Version 4 must be the one
its secret makes (``sigv4.py``), temporary credentials must carry their session token and be
unexpired, and the request time must be within 15 minutes of AWS's clock. A request that fails is
answered with the service's own error before any policy is read:

=========================  ==========================  ==============================  ==========================
failure                    S3 (REST-XML)               DynamoDB, KMS (JSON)            IAM, STS (query)
=========================  ==========================  ==============================  ==========================
unknown, deleted,          ``InvalidAccessKeyId`` 403  ``UnrecognizedClientException``  ``InvalidClientTokenId`` 403
inactive key                                           400
signature mismatch         ``SignatureDoesNotMatch``   ``InvalidSignatureException``   ``SignatureDoesNotMatch`` 403
                           403                         400
session token wrong or     ``InvalidToken`` 400        ``UnrecognizedClientException``  ``InvalidClientTokenId`` 403
missing                                                400
session expired            ``ExpiredToken`` 400        ``ExpiredTokenException`` 400   ``ExpiredToken`` 403
request time > 15 min off  ``RequestTimeTooSkewed``    ``InvalidSignatureException``   ``SignatureDoesNotMatch`` 403
                           403                         400 "Signature expired: ..."    "Signature expired: ..."
presigned URL expired      ``AccessDenied`` 403        (as the row above)              (as the row above)
                           "Request has expired"
=========================  ==========================  ==============================  ==========================

Sources: S3 API Reference, "Error responses" (List of error codes: InvalidAccessKeyId,
SignatureDoesNotMatch, InvalidToken, ExpiredToken, RequestTimeTooSkewed); the services' "Common
Errors" pages (IAM API Reference, "Common Errors": InvalidClientTokenId 403, ExpiredToken,
"RequestExpired ... more than 15 minutes"); AWS's answers quoted in boto/boto#1552 and
aws/aws-sdk-js#254 (DynamoDB ``com.amazon.coral.service#InvalidSignatureException``, "Signature
expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)") and
aws/aws-encryption-sdk-java#9, localstack/localstack#4329 (KMS ``UnrecognizedClientException``
"The security token included in the request is invalid."); the messages as moto's own
``core/exceptions.py`` and ``s3/exceptions.py`` word them.

Orchestrate's own identity has no key in moto's world: serve takes the credentials in
:class:`AdminKeys` as it (``orchestrate serve --admin-key``; ``--any-key-as-admin`` takes any key
serve does not hold, as LocalStack does). The in-process backend is not authenticated here: its
clients are orchestrate's own, signed with keys it made (docs/embedded-departures.md).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from orchestrator.authz.gate import sigv4
from orchestrator.authz.gate.errors import AwsError, new_request_id
from orchestrator.authz.gate.transport_proof import TransportProof
from orchestrator.authz.world import KeySecret, KeyStore
from orchestrator.constants import ADMIN_KEY_ID

__all__ = ["AdminKeys", "Authenticator", "ENDPOINT_ADMIN", "MOTO_TESTING", "parse_admin_key"]

#: orchestrate's own credentials against an endpoint when the environment names none
#: (orchestrator/backends/endpoint.py DEFAULT_ADMIN, named again: the gate imports no client).
ENDPOINT_ADMIN = (ADMIN_KEY_ID, "orchestrate-endpoint-admin-secret")
#: moto's documented fake credentials (moto docs, "Getting Started": ``aws_access_key_id="testing"``),
#: which the gate's own in-process test server (wsgi.GatedMotoServer) also takes as orchestrate's.
MOTO_TESTING = ("testing", "testing")
#: AWS refuses a request time more than this far from its own (IAM API Reference, "Common
#: Errors": RequestExpired; S3 API Reference: RequestTimeTooSkewed).
SKEW = timedelta(minutes=15)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
              "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
_S3_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.")
#: (S3's code, message, status), (JSON services'), (query services') per failure
_ERRORS: Mapping[str, tuple[tuple[str, str, int], ...]] = {
    "unknown-key": (("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403),
                    ("UnrecognizedClientException", _INVALID_TOKEN, 400), ("InvalidClientTokenId", _INVALID_TOKEN, 403)),
    "signature": (("SignatureDoesNotMatch", _S3_SIGNATURE, 403), ("InvalidSignatureException", _SIGNATURE, 400),
                  ("SignatureDoesNotMatch", _SIGNATURE, 403)),
    "token": (("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
              ("UnrecognizedClientException", _INVALID_TOKEN, 400), ("InvalidClientTokenId", _INVALID_TOKEN, 403)),
    "expired-token": (("ExpiredToken", "The provided token has expired.", 400),
                      ("ExpiredTokenException", _EXPIRED_TOKEN, 400), ("ExpiredToken", _EXPIRED_TOKEN, 403)),
    "skewed": (("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403),
               ("InvalidSignatureException", "", 400), ("SignatureDoesNotMatch", "", 403)),
    "presign-expired": (("AccessDenied", "Request has expired", 403),
                        ("InvalidSignatureException", "", 400), ("SignatureDoesNotMatch", "", 403)),
}


def parse_admin_key(text: str) -> tuple[str, str]:
    """``ID:SECRET`` (``orchestrate serve --admin-key``); ValueError without either part. The
    message never repeats the text: it holds a secret."""
    key_id, _, secret = text.partition(":")
    if not key_id.strip() or not secret:
        raise ValueError("expected ACCESS_KEY_ID:SECRET_ACCESS_KEY")
    return key_id.strip(), secret


@dataclass(frozen=True)
class AdminKeys:
    """The credentials taken as orchestrate's own identity: ``pairs`` (the default endpoint
    credentials, ``--admin-key``), the ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` pair of this
    process's environment when ``environment`` (a client started from the same shell signs with
    it: backends/endpoint.py), and with ``any_key`` every key the world does not hold, unverified.
    Its ``repr`` names key ids only."""

    pairs: tuple[tuple[str, str], ...] = field(default=(ENDPOINT_ADMIN,), repr=False)
    environment: bool = True
    any_key: bool = False

    def __repr__(self) -> str:
        return (f"AdminKeys(ids={[key for key, _ in self.pairs]!r}, environment={self.environment}, "
                f"any_key={self.any_key})")

    def secret(self, access_key_id: str) -> str | None:
        """The secret orchestrate's identity signs ``access_key_id`` with, None if it is none of its keys."""
        for key, secret in self.pairs:
            if key == access_key_id:
                return secret
        if self.environment and os.environ.get("AWS_ACCESS_KEY_ID") == access_key_id:
            return os.environ.get("AWS_SECRET_ACCESS_KEY") or None
        return None


def _error(failure: str, service: str, protocol: str, message: str = "") -> AwsError:
    s3, json_, query = _ERRORS[failure]
    code, text, status = {"json": json_, "query": query}.get(protocol, s3)
    return AwsError(code, text or message, status, "authentication", service, new_request_id())


def _skew_message(stamp: datetime, now: datetime) -> str:
    """AWS's words for a request time out of the window (aws/aws-sdk-js#254)."""
    shown = "%Y%m%dT%H%M%SZ"
    if stamp < now:
        return (f"Signature expired: {stamp.strftime(shown)} is now earlier than {(now - SKEW).strftime(shown)}"
                f" ({now.strftime(shown)} - 15 min.)")
    return (f"Signature not yet current: {stamp.strftime(shown)} is still later than {(now + SKEW).strftime(shown)}"
            f" ({now.strftime(shown)} + 15 min.)")


class Authenticator:
    """Decides whether a signed request's signer is who its access key id says (see module doc).

    ``read_body`` reads the request body and puts it back for the app (wsgi.read_body): the
    payload hash of every service but S3 is the body's SHA-256."""

    def __init__(self, keys: KeyStore, admins: AdminKeys, read_body: Callable[[dict[str, Any]], bytes],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.keys = keys
        self.admins = admins
        self.read_body = read_body
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._transport = TransportProof(admins, keys, read_body)

    def transport_refusal(self, environ: dict[str, Any], carried: Mapping[str, str], proof: str | None) -> str | None:
        """None when the request's transport headers are proved orchestrate's, else why they are
        ignored (transport_proof.py): only orchestrate's own identity chooses a network position."""
        return self._transport.refusal(environ, carried, proof)

    def refusal(self, environ: dict[str, Any], service: str, protocol: str) -> AwsError | None:
        """None when the request is authentic, else the error AWS answers (service's wording)."""
        signed = sigv4.signed_request(environ)
        if signed is None:  # a credential but no whole signature (IAM API Reference: IncompleteSignature)
            return _error("signature", service, protocol)
        known = self._secret(signed.access_key_id)
        if known is None:  # held by no one: with --any-key-as-admin orchestrate's own, unverified
            return None if self.admins.any_key else _error("unknown-key", service, protocol)
        if not known.active:
            return _error("unknown-key", service, protocol)
        late = self._time_refusal(signed, service, protocol)
        if late is not None:
            return late
        if not sigv4.matches(environ, signed, known.secret, self._payload_hash(environ, signed)):
            return _error("signature", service, protocol)
        return self._session_refusal(known, signed, service, protocol)

    def _secret(self, access_key_id: str) -> KeySecret | None:
        """The key's secret: the world's (a user's key, a role session's), else orchestrate's own."""
        known = self.keys.secret_for_access_key(access_key_id)
        if known is not None:
            return known
        secret = self.admins.secret(access_key_id)
        return None if secret is None else KeySecret(secret)

    def _session_refusal(self, known: KeySecret, signed: sigv4.SignedRequest, service: str,
                         protocol: str) -> AwsError | None:
        """Temporary credentials: their session token, compared in constant time, and their expiry."""
        if known.session_token is None:
            return None
        if signed.session_token is None or not _same(signed.session_token, known.session_token):
            return _error("token", service, protocol)
        if known.expiration is not None and self.clock() >= known.expiration:
            return _error("expired-token", service, protocol)
        return None

    def _time_refusal(self, signed: sigv4.SignedRequest, service: str, protocol: str) -> AwsError | None:
        """A request time more than 15 minutes from serve's clock, or a presigned URL past its
        ``X-Amz-Expires`` (S3 API Reference, "Authenticating Requests: Using Query Parameters")."""
        stamp, now = sigv4.request_time(signed), self.clock()
        if stamp is None or not signed.amz_date.startswith(signed.date):
            return _error("signature", service, protocol)
        if signed.expires is not None:
            if signed.expires < 0 or now > stamp + timedelta(seconds=signed.expires) or stamp - now > SKEW:
                return _error("presign-expired", service, protocol, _skew_message(stamp, now))
            return None
        if abs(now - stamp) > SKEW:
            return _error("skewed", service, protocol, _skew_message(stamp, now))
        return None

    def _payload_hash(self, environ: dict[str, Any], signed: sigv4.SignedRequest) -> str:
        """S3: ``x-amz-content-sha256`` as given (a hash, ``UNSIGNED-PAYLOAD``, ``STREAMING-...``;
        a presigned URL's is ``UNSIGNED-PAYLOAD``); every other service: the body's SHA-256."""
        if signed.service == "s3":
            declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
            if declared:
                return str(declared)
            if signed.expires is not None:
                return "UNSIGNED-PAYLOAD"
        return hashlib.sha256(self.read_body(environ)).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
