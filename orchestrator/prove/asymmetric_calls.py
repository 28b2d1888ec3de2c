"""The calls of expectations on asymmetric and HMAC keys, and what an allowed one is worth.

KMS API Reference, "Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac", "Encrypt" and
"Decrypt"; KMS Developer Guide, "Key spec reference" (the algorithms of each spec) and "Download
public key" (a public key is used outside KMS, without any KMS permission).

What orchestrate makes beforehand, as its own identity (the key's administrator; the lockout
guard grants it kms:Sign, kms:GenerateMac, kms:GetPublicKey and kms:Encrypt): the signature a
kms:Verify checks, the MAC a kms:VerifyMac checks, the ciphertext an asymmetric kms:Decrypt
decrypts (Encrypt with the algorithm: `Probes.asymmetric`), and the public key an offline check uses. What AWS refuses
on the way is PreparationFailed, the expectation's error.

An allowed call is checked for what it is worth (`CallSpec.verify`): a Sign's signature must
verify offline against the key's public key (with `cryptography`); an allowed Verify or VerifyMac
must say valid, and the same call on a tampered message must fail with
KMSInvalidSignatureException / KMSInvalidMacException. A check that fails is `VerificationFailed`:
a failed verification, reported as an error verdict, never as an access decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from orchestrator import arns
from orchestrator.errors import ProofError
from orchestrator.loader.key_checks import default_algorithm
from orchestrator.model.resources import Key
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.resources.context import RunContext

MESSAGE = b"orchestrate-signed-message"
TAMPERED = b"orchestrate-tampered-message"
PLAINTEXT = b"orchestrate-probe"  # what an asymmetric kms:Encrypt expectation encrypts
ASYMMETRIC_OPERATIONS = frozenset({"Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac"})
#: What KMS answers a signature or MAC that does not verify (KMS API Reference, "Verify", "VerifyMac").
VERIFICATION_CODES = frozenset({"KMSInvalidSignatureException", "KMSInvalidMacException"})
Check = Callable[[Any, dict[str, Any]], None]


class VerificationFailed(ProofError):
    """A signature or MAC did not verify: a failed verification, not an access decision."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unprepared(ProofError):
    """What orchestrate makes beforehand failed (the caller turns it into PreparationFailed)."""


def is_asymmetric_call(desired: DesiredState, expectation: Expectation) -> bool:
    """Whether the call is built here: a signing, MAC or public-key operation, or an
    Encrypt/Decrypt on a key that is not symmetric (it names an EncryptionAlgorithm)."""
    kind, _, name = expectation.resource.partition(":")
    operation = expectation.action.partition(":")[2]
    if kind != "key" or name not in desired.keys:
        return False
    if operation in ASYMMETRIC_OPERATIONS:
        return True
    return operation in ("Encrypt", "Decrypt") and desired.keys[name].spec != "SYMMETRIC_DEFAULT"


def algorithm_of(key: Key, expectation: Expectation) -> str:
    """The expectation's algorithm, else the key spec's first ("Key spec reference")."""
    return expectation.algorithm or default_algorithm(key) or "SYMMETRIC_DEFAULT"


def asymmetric_params(ctx: RunContext, desired: DesiredState, expectation: Expectation,
                      encrypted: Callable[[str, str], bytes]) -> tuple[dict[str, Any], Check | None]:
    """The call's parameters and the check of an allowed answer; Unprepared when what
    orchestrate makes beforehand fails. ``encrypted(key name, algorithm)`` is the ciphertext a
    Decrypt decrypts (`Probes.asymmetric`)."""
    name = expectation.resource.partition(":")[2]
    key, key_arn = desired.keys[name], ctx.arn(f"key:{name}")
    operation = expectation.action.partition(":")[2]
    algorithm = algorithm_of(key, expectation)
    if operation == "Sign":
        params = {"KeyId": key_arn, "Message": MESSAGE, "MessageType": "RAW", "SigningAlgorithm": algorithm}
        return params, signature_check(ctx, key_arn, algorithm)
    if operation == "Verify":
        signature = _admin_sign(ctx, key_arn, algorithm)
        params = {"KeyId": key_arn, "Message": MESSAGE, "MessageType": "RAW", "Signature": signature,
                  "SigningAlgorithm": algorithm}
        return params, tampered_check(params, "verify", "KMSInvalidSignatureException", "SignatureValid")
    if operation == "GenerateMac":
        return {"KeyId": key_arn, "Message": MESSAGE, "MacAlgorithm": algorithm}, None
    if operation == "VerifyMac":
        mac = _admin(ctx, key_arn, "generate_mac", KeyId=key_arn, Message=MESSAGE, MacAlgorithm=algorithm)["Mac"]
        params = {"KeyId": key_arn, "Message": MESSAGE, "Mac": mac, "MacAlgorithm": algorithm}
        return params, tampered_check(params, "verify_mac", "KMSInvalidMacException", "MacValid")
    if operation == "Encrypt":
        return {"KeyId": key_arn, "Plaintext": PLAINTEXT, "EncryptionAlgorithm": algorithm}, None
    if operation == "Decrypt":
        return {"KeyId": key_arn, "CiphertextBlob": encrypted(name, algorithm), "EncryptionAlgorithm": algorithm}, None
    return {"KeyId": key_arn}, None  # GetPublicKey


def admin_kms(ctx: RunContext, key_arn: str) -> Any:
    """KMS as orchestrate's identity in the key's account (the key's administrator there)."""
    return ctx.backend.client("kms", None, arns.account_of(key_arn) or None)


def _admin(ctx: RunContext, key_arn: str, method: str, **params: Any) -> dict[str, Any]:
    """One call as orchestrate's identity; AWS's refusal is Unprepared, no answer propagates."""
    try:
        return dict(getattr(admin_kms(ctx, key_arn), method)(**params))
    except Exception as error:
        answer = getattr(error, "response", None)
        if not isinstance(answer, dict) or "Error" not in answer:
            raise
        operation = "".join(part.title() for part in method.split("_"))
        raise Unprepared(f"orchestrate's {operation} on {key_arn} failed with {answer['Error'].get('Code')}:"
                         f" {answer['Error'].get('Message', '')}") from None


def _admin_sign(ctx: RunContext, key_arn: str, algorithm: str) -> bytes:
    answer = _admin(ctx, key_arn, "sign", KeyId=key_arn, Message=MESSAGE, MessageType="RAW", SigningAlgorithm=algorithm)
    return bytes(answer["Signature"])


def public_key(ctx: RunContext, key_arn: str) -> bytes:
    """The key's DER public key (GetPublicKey as orchestrate's identity); Unprepared if refused."""
    return bytes(_admin(ctx, key_arn, "get_public_key", KeyId=key_arn)["PublicKey"])


def signature_check(ctx: RunContext, key_arn: str, algorithm: str) -> Check:
    """An allowed Sign: its signature verifies offline against the key's public key."""
    def check(_client: Any, answer: dict[str, Any]) -> None:
        try:
            der = public_key(ctx, key_arn)
        except Unprepared as error:
            raise VerificationFailed("PreparationFailed", f"could not check the signature: {error}") from None
        if not verifies_offline(der, MESSAGE, bytes(answer["Signature"]), algorithm):
            raise VerificationFailed("VerificationFailed", f"the signature kms:Sign returned does not verify against"
                                     f" the public key of {key_arn} ({algorithm})")
    return check


def tampered_check(params: dict[str, Any], method: str, code: str, valid_field: str) -> Check:
    """An allowed Verify/VerifyMac says valid, and the same call on a tampered message fails with ``code``."""
    def check(client: Any, answer: dict[str, Any]) -> None:
        if answer.get(valid_field) is not True:
            raise VerificationFailed("VerificationFailed", f"{valid_field} was {answer.get(valid_field)!r} for"
                                     " orchestrate's own signature")
        try:
            getattr(client, method)(**{**params, "Message": TAMPERED})
        except Exception as error:
            response = getattr(error, "response", None)
            if not isinstance(response, dict):
                raise
            found = response.get("Error", {}).get("Code")
            if found == code:
                return
            raise VerificationFailed(str(found), f"a tampered message answered {found}, not {code}") from None
        raise VerificationFailed("VerificationFailed", f"a tampered message verified: {code} expected")
    return check


def verifies_offline(der_public_key: bytes, message: bytes, signature: bytes, algorithm: str) -> bool:
    """Whether ``signature`` of the RAW ``message`` verifies with the DER public key (KMS
    Developer Guide, "Offline verification with AWS KMS key pairs": RSASSA-PSS / PKCS #1 v1.5
    or ECDSA with the algorithm's SHA-2 digest; ECDSA signatures are DER-encoded)."""
    key = serialization.load_der_public_key(der_public_key)
    digest = _digest(algorithm)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
                                              if "_PSS_" in algorithm else padding.PKCS1v15())
            key.verify(signature, message, pad, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(digest))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _digest(algorithm: str) -> hashes.HashAlgorithm:
    bits = algorithm.rsplit("_", 1)[-1]
    return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(bits, hashes.SHA256())


def verify_offline(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> str:
    """`offline: true`: orchestrate signs and fetches the public key as its own identity, and the
    signature is verified here, as the partner holding only the public key would: no KMS call is
    made as `as`. The reason for an allowed verdict; VerificationFailed or Unprepared otherwise."""
    name = expectation.resource.partition(":")[2]
    key, key_arn = desired.keys[name], ctx.arn(f"key:{name}")
    algorithm = algorithm_of(key, expectation)
    signature = _admin_sign(ctx, key_arn, algorithm)
    der = public_key(ctx, key_arn)
    if not verifies_offline(der, MESSAGE, signature, algorithm):
        raise VerificationFailed("VerificationFailed", f"orchestrate's signature under {key_arn} does not verify"
                                 f" offline with its public key ({algorithm})")
    if verifies_offline(der, TAMPERED, signature, algorithm):
        raise VerificationFailed("VerificationFailed", "a tampered message verified offline")
    return (f"verified offline with the public key of key:{name} ({algorithm}); a tampered message did not verify;"
            " no KMS call was made as the principal")
