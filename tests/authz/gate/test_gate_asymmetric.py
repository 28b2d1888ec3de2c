"""Asymmetric and HMAC keys behind the gate: the key policy decides Sign, Verify, GetPublicKey and
GenerateMac; the condition keys of those requests; the key-usage errors AWS answers.

AWS KMS Developer Guide, "Condition keys for AWS KMS" (kms:SigningAlgorithm, kms:MessageType,
kms:MacAlgorithm, kms:EncryptionAlgorithm, kms:KeySpec, kms:KeyUsage) and "Key spec reference";
KMS API Reference, "Sign" / "GenerateMac" (InvalidKeyUsageException), "GetPublicKey"
(UnsupportedOperationException), "Verify" (KMSInvalidSignatureException).
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, TESTER_ARN, Scenario, key_policy, statement

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
MESSAGE = b"release-1.0.tar.gz"


def _key(scenario: Scenario, spec: str, usage: str, *extra: dict) -> str:
    """A key of ``spec``/``usage`` whose policy has the orchestrator statement and ``extra``."""
    kms = scenario.client("orchestrator", "kms")
    return kms.create_key(Policy=key_policy(*extra), KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["Arn"]


def _code(call: Any, **params: Any) -> str | None:
    try:
        call(**params)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


# (doc section, key spec, key usage, tester statement condition, call, params, expected error code)
CASES = [
    ('"Condition keys": kms:SigningAlgorithm allows the named algorithm', "RSA_2048", "SIGN_VERIFY",
     {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}, "sign",
     {"SigningAlgorithm": "RSASSA_PSS_SHA_256"}, None),
    ('"Condition keys": kms:SigningAlgorithm refuses another', "RSA_2048", "SIGN_VERIFY",
     {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}, "sign",
     {"SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256"}, "AccessDeniedException"),
    ('"Condition keys": kms:MessageType is RAW for a message', "ECC_NIST_P256", "SIGN_VERIFY",
     {"StringEquals": {"kms:MessageType": "RAW"}}, "sign", {"SigningAlgorithm": "ECDSA_SHA_256"}, None),
    ('"Condition keys": kms:MessageType DIGEST does not match RAW', "ECC_NIST_P256", "SIGN_VERIFY",
     {"StringEquals": {"kms:MessageType": "DIGEST"}}, "sign", {"SigningAlgorithm": "ECDSA_SHA_256"},
     "AccessDeniedException"),
    ('"Condition keys": kms:KeySpec of the key', "ECC_SECG_P256K1", "SIGN_VERIFY",
     {"StringEquals": {"kms:KeySpec": "ECC_SECG_P256K1"}}, "sign", {"SigningAlgorithm": "ECDSA_SHA_256"}, None),
    ('"Condition keys": kms:KeyUsage of the key', "RSA_3072", "SIGN_VERIFY",
     {"StringEquals": {"kms:KeyUsage": "ENCRYPT_DECRYPT"}}, "sign", {"SigningAlgorithm": "RSASSA_PSS_SHA_384"},
     "AccessDeniedException"),
    ('"Condition keys": kms:MacAlgorithm allows HMAC_SHA_256', "HMAC_256", "GENERATE_VERIFY_MAC",
     {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}}, "generate_mac", {"MacAlgorithm": "HMAC_SHA_256"}, None),
    ('"Condition keys": kms:MacAlgorithm refuses HMAC_SHA_512', "HMAC_512", "GENERATE_VERIFY_MAC",
     {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}}, "generate_mac", {"MacAlgorithm": "HMAC_SHA_512"},
     "AccessDeniedException"),
    ('"Condition keys": kms:EncryptionAlgorithm of an RSA Encrypt', "RSA_2048", "ENCRYPT_DECRYPT",
     {"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}, "encrypt",
     {"EncryptionAlgorithm": "RSAES_OAEP_SHA_1", "Plaintext": b"x"}, "AccessDeniedException"),
    ('"Sign": InvalidKeyUsageException on an ENCRYPT_DECRYPT key', "RSA_2048", "ENCRYPT_DECRYPT", None, "sign",
     {"SigningAlgorithm": "RSASSA_PSS_SHA_256"}, "InvalidKeyUsageException"),
    ('"Encrypt": InvalidKeyUsageException on a SIGN_VERIFY key', "RSA_4096", "SIGN_VERIFY", None, "encrypt",
     {"EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "Plaintext": b"x"}, "InvalidKeyUsageException"),
    ('"GenerateMac": InvalidKeyUsageException on a signing key', "ECC_NIST_P384", "SIGN_VERIFY", None,
     "generate_mac", {"MacAlgorithm": "HMAC_SHA_384"}, "InvalidKeyUsageException"),
    ('"GetPublicKey": UnsupportedOperationException for an HMAC key', "HMAC_224", "GENERATE_VERIFY_MAC", None,
     "get_public_key", {}, "UnsupportedOperationException"),
]


@pytest.mark.parametrize("doc, spec, usage, condition, call, params, expected", CASES, ids=[c[0] for c in CASES])
def test_asymmetric_requests_are_decided_as_kms_documents(scenario: Scenario, doc: str, spec: str, usage: str,
                                                          condition: dict | None, call: str, params: dict,
                                                          expected: str | None) -> None:
    actions = ["kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:GenerateMac", "kms:Encrypt"]
    key_arn = _key(scenario, spec, usage, statement("Tester", TESTER_ARN, actions, condition))
    message = {} if call in ("get_public_key", "encrypt") else {"Message": MESSAGE}
    tester = scenario.client("tester", "kms")
    assert _code(getattr(tester, call), KeyId=key_arn, **message, **params) == expected


def test_invalid_key_usage_is_worded_as_aws_words_it(scenario: Scenario) -> None:
    """AWS: "<key arn> key usage is ENCRYPT_DECRYPT which is not valid for Sign." (jwt-kms#4)."""
    key_arn = _key(scenario, "RSA_2048", "ENCRYPT_DECRYPT", statement("Tester", TESTER_ARN, ["kms:Sign"]))
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").sign(KeyId=key_arn, Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert excinfo.value.response["Error"]["Message"] == f"{key_arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign."


def test_authorization_comes_before_the_key_usage(scenario: Scenario) -> None:
    """A caller the key policy does not allow is denied, whatever the key's usage."""
    key_arn = _key(scenario, "RSA_2048", "ENCRYPT_DECRYPT")
    tester = scenario.client("tester", "kms")
    assert _code(tester.sign, KeyId=key_arn, Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256") == "AccessDeniedException"


@pytest.mark.parametrize("call", ["sign", "verify", "get_public_key"])
def test_the_key_policy_decides_signing_calls(scenario: Scenario, call: str) -> None:
    """"Key policies in AWS KMS": without the key policy naming tester (or its account), no IAM
    policy helps; naming it allows."""
    key_arn = _key(scenario, "ECC_NIST_P521", "SIGN_VERIFY")
    signature = scenario.client("orchestrator", "kms").sign(
        KeyId=key_arn, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_512")["Signature"]
    params: dict[str, Any] = {"KeyId": key_arn}
    if call != "get_public_key":
        params.update(Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_512")
    if call == "verify":
        params["Signature"] = signature
    tester = scenario.client("tester", "kms")
    assert _code(getattr(tester, call), **params) == "AccessDeniedException"
    scenario.client("orchestrator", "kms").put_key_policy(
        KeyId=key_arn, PolicyName="default", Policy=key_policy(statement("Tester", TESTER_ARN, ["kms:*"])))
    assert _code(getattr(tester, call), **params) is None


def test_a_tampered_verify_fails_with_kms_invalid_signature(scenario: Scenario) -> None:
    """KMS API Reference, "Verify": an unverified signature is KMSInvalidSignatureException, not
    SignatureValid false (moto's answer; the gate answers it)."""
    key_arn = _key(scenario, "RSA_2048", "SIGN_VERIFY", statement("Tester", TESTER_ARN, ["kms:Verify"]))
    signature = scenario.client("orchestrator", "kms").sign(
        KeyId=key_arn, Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    tester = scenario.client("tester", "kms")
    good = tester.verify(KeyId=key_arn, Message=MESSAGE, Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert good["SignatureValid"] is True
    assert _code(tester.verify, KeyId=key_arn, Message=b"tampered", Signature=signature,
                 SigningAlgorithm="RSASSA_PSS_SHA_256") == "KMSInvalidSignatureException"


def test_a_tampered_verify_mac_fails_with_kms_invalid_mac(scenario: Scenario) -> None:
    key_arn = _key(scenario, "HMAC_384", "GENERATE_VERIFY_MAC", statement("Tester", TESTER_ARN, ["kms:VerifyMac"]))
    mac = scenario.client("orchestrator", "kms").generate_mac(KeyId=key_arn, Message=MESSAGE, MacAlgorithm="HMAC_SHA_384")["Mac"]
    tester = scenario.client("tester", "kms")
    assert tester.verify_mac(KeyId=key_arn, Message=MESSAGE, Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"] is True
    assert _code(tester.verify_mac, KeyId=key_arn, Message=b"tampered", Mac=mac,
                 MacAlgorithm="HMAC_SHA_384") == "KMSInvalidMacException"
