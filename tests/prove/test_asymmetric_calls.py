"""Asymmetric and HMAC expectations (orchestrator/prove/asymmetric_calls.py): the offline
verification really verifies, and a signature or MAC that does not verify is a failed
verification (an error verdict), never an access decision.

KMS Developer Guide, "Offline verification with AWS KMS key pairs"; KMS API Reference, "Verify"
(KMSInvalidSignatureException), "VerifyMac" (KMSInvalidMacException).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from orchestrator.cli import main
from orchestrator.prove import asymmetric_calls
from orchestrator.prove.asymmetric_calls import VerificationFailed, tampered_check, verifies_offline
from orchestrator.prove.assertions import perform
from orchestrator.prove.calls import CallSpec
from orchestrator.backends.moto_world import MotoWorld

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = b"orchestrate-signed-message"


def _der(private: Any) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _rsa_signature(private: rsa.RSAPrivateKey, algorithm: str, message: bytes) -> bytes:
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[algorithm[-3:]]
    pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size) if "_PSS_" in algorithm else padding.PKCS1v15()
    return private.sign(message, pad, digest)


@pytest.mark.parametrize("algorithm", ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_384"])
def test_rsa_signatures_verify_offline_and_tampered_ones_do_not(algorithm: str) -> None:
    """KMS signs RSASSA-PSS with a salt as long as the digest; the offline check accepts it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = _rsa_signature(private, algorithm, MESSAGE)
    assert verifies_offline(_der(private), MESSAGE, signature, algorithm)
    assert not verifies_offline(_der(private), b"tampered", signature, algorithm)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not verifies_offline(_der(other), MESSAGE, signature, algorithm)


@pytest.mark.parametrize("curve, algorithm, digest", [
    (ec.SECP256R1(), "ECDSA_SHA_256", hashes.SHA256()), (ec.SECP384R1(), "ECDSA_SHA_384", hashes.SHA384()),
    (ec.SECP521R1(), "ECDSA_SHA_512", hashes.SHA512()), (ec.SECP256K1(), "ECDSA_SHA_256", hashes.SHA256()),
])
def test_ecdsa_signatures_verify_offline(curve: ec.EllipticCurve, algorithm: str, digest: hashes.HashAlgorithm) -> None:
    private = ec.generate_private_key(curve)
    signature = private.sign(MESSAGE, ec.ECDSA(digest))  # DER-encoded, as KMS returns it
    assert verifies_offline(_der(private), MESSAGE, signature, algorithm)
    assert not verifies_offline(_der(private), b"tampered", signature, algorithm)


class _Client:
    """A KMS client stand-in: the main Verify answers ``answer``; a tampered one ``tampered``."""

    def __init__(self, answer: dict[str, Any] | ClientError, tampered: ClientError | None) -> None:
        self.answer, self.tampered, self.calls = answer, tampered, []

    def verify(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params["Message"])
        failure = self.answer if params["Message"] == MESSAGE else self.tampered
        if isinstance(failure, ClientError):
            raise failure
        return failure if isinstance(failure, dict) else {"SignatureValid": True}


def _invalid(code: str = "KMSInvalidSignatureException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": ""}}, "Verify")


def _verify_spec() -> CallSpec:
    params = {"KeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "Message": MESSAGE, "Signature": b"s",
              "SigningAlgorithm": "ECDSA_SHA_256"}
    return CallSpec("kms", "Verify", "verify", params,
                    verify=tampered_check(params, "verify", "KMSInvalidSignatureException", "SignatureValid"))


def test_an_allowed_verify_whose_tampered_twin_fails_is_allowed() -> None:
    client = _Client({"SignatureValid": True}, _invalid())
    assert perform(client, _verify_spec()).allowed
    assert client.calls == [MESSAGE, asymmetric_calls.TAMPERED]


def test_a_tampered_message_that_verifies_is_a_failed_verification() -> None:
    with pytest.raises(VerificationFailed, match="a tampered message verified"):
        perform(_Client({"SignatureValid": True}, None), _verify_spec())


def test_kms_invalid_signature_on_the_call_is_a_failed_verification_not_a_denial() -> None:
    with pytest.raises(VerificationFailed) as caught:
        perform(_Client(_invalid(), None), _verify_spec())
    assert caught.value.code == "KMSInvalidSignatureException"


def test_kms_invalid_mac_is_a_failed_verification_too() -> None:
    with pytest.raises(VerificationFailed) as caught:
        perform(_Client(_invalid("KMSInvalidMacException"), None), _verify_spec())
    assert caught.value.code == "KMSInvalidMacException"


def _report(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]]]:
    code = main(["apply", str(path), "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, [v for state in report["states"] for v in state["expectations"]]


def test_an_allowed_sign_whose_signature_does_not_verify_is_an_error_verdict(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The signature an allowed kms:Sign returned is checked offline; when it does not verify, the
    verdict is an error (VerificationFailed), neither allowed nor denied."""
    monkeypatch.setattr(asymmetric_calls, "verifies_offline", lambda *_args: False)
    code, verdicts = _report(ROOT / "scenarios" / "public-key-verify.yaml", capsys)
    assert code != 0
    sign, offline = verdicts[0], verdicts[3]
    assert (sign["action"], sign["actual"], sign["error_code"]) == ("kms:Sign", "error", "VerificationFailed")
    assert "does not verify against the public key" in sign["error_message"]
    assert (offline["actual"], offline["error_code"]) == ("error", "VerificationFailed")
    assert verdicts[1]["actual"] == "denied"  # the access decisions stand


def test_the_shipped_signing_scenario_checks_each_allowed_signature(capsys: pytest.CaptureFixture[str]) -> None:
    code, verdicts = _report(ROOT / "scenarios" / "asymmetric-signing.yaml", capsys)
    assert code == 0, [v for v in verdicts if not v["passed"]]
    allowed_signs = [v for v in verdicts if v["action"] == "kms:Sign" and v["actual"] == "allowed"]
    assert len(allowed_signs) == 3 and not any(v["model_gap"] for v in verdicts)


SPECS = ROOT / "tests" / "prove" / "data" / "asymmetric-specs.yaml"


def test_every_spec_moto_offers_is_proved_on_embedded(capsys: pytest.CaptureFixture[str]) -> None:
    """RSA_2048/3072/4096, ECC_NIST_P256/P384/P521, ECC_SECG_P256K1, HMAC_224/256/384/512
    (KMS Developer Guide, "Key spec reference"), each with its usage and algorithms."""
    code, verdicts = _report(SPECS, capsys)
    assert code == 0, [v for v in verdicts if not v["passed"]]
    assert len(verdicts) == 18 and not any(v["model_gap"] for v in verdicts)


def test_every_spec_is_proved_against_serve(capsys: pytest.CaptureFixture[str]) -> None:
    """The same under `orchestrate serve`'s gate, with predictions from the desired state."""
    from orchestrator.authz.gate.core import Gate
    from orchestrator.authz.gate.wsgi import GatedMotoServer

    server = GatedMotoServer("127.0.0.1", 0, Gate("us-east-1", MotoWorld())).start()
    try:
        code = main(["run", str(SPECS), "--endpoint-url", server.endpoint_url, "--run-id", "specs", "--output", "json"])
        report = json.loads(capsys.readouterr().out)
    finally:
        server.stop()
    verdicts = [v for state in report["states"] for v in state["expectations"]]
    assert code == 0, [v for v in verdicts if not v["passed"]]
    assert not any(v["model_gap"] for v in verdicts) and all(v["predicted"] is not None for v in verdicts)
