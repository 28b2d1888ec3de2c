"""Expectations on KMS keys against the key's spec and usage (orchestrator/loader/key_checks.py,
hooked into references.py): each problem located at file:line:col with its field path.

KMS Developer Guide, "Key spec reference" (the algorithms of each spec); KMS API Reference, "Sign",
"GenerateMac", "Encrypt" (InvalidKeyUsageException), "GetPublicKey" (UnsupportedOperationException).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.loader.key_checks import ALGORITHMS
from orchestrator.model.resources import KEY_USAGES_BY_SPEC

BASE = """\
name: kc
users:
  tester: {}
keys:
  data:
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
  rsa:
    spec: RSA_2048
    usage: SIGN_VERIFY
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
  rsa_crypt:
    spec: RSA_3072
    usage: ENCRYPT_DECRYPT
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
  p256:
    spec: ECC_NIST_P256
    usage: SIGN_VERIFY
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
  mac:
    spec: HMAC_256
    usage: GENERATE_VERIFY_MAC
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
states:
  - name: s
    expectations:
      - EXPECTATION
"""


def load(tmp_path: Path, expectation: str) -> object:
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("EXPECTATION", expectation))
    return load_scenario(path)


def diagnostics(tmp_path: Path, expectation: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, expectation)
    return [str(d).removeprefix(str(tmp_path / "scenario.yaml") + ":") for d in caught.value.diagnostics]


@pytest.mark.parametrize("expectation", [
    "{as: tester, action: kms:Sign, resource: key:rsa, algorithm: RSASSA_PSS_SHA_512, expect: denied}",
    "{as: tester, action: kms:Verify, resource: key:p256, algorithm: ECDSA_SHA_256, expect: denied}",
    "{as: tester, action: kms:Verify, resource: key:p256, offline: true, expect: allowed}",
    "{as: tester, action: kms:GetPublicKey, resource: key:rsa_crypt, expect: denied}",
    "{as: tester, action: kms:Encrypt, resource: key:rsa_crypt, algorithm: RSAES_OAEP_SHA_1, expect: denied}",
    "{as: tester, action: kms:GenerateMac, resource: key:mac, algorithm: HMAC_SHA_256, expect: denied}",
    "{as: tester, action: kms:VerifyMac, resource: key:mac, expect: denied}",
    "{as: tester, action: kms:Decrypt, resource: key:data, algorithm: SYMMETRIC_DEFAULT, expect: denied}",
])
def test_actions_and_algorithms_that_fit_the_key_load(tmp_path: Path, expectation: str) -> None:
    load(tmp_path, expectation)


def test_an_algorithm_the_spec_lacks_is_located(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "{as: tester, action: kms:Sign, resource: key:p256, algorithm: ECDSA_SHA_384, expect: denied}") == [
        "26:71: ECDSA_SHA_384 is not an algorithm of key 'p256' (ECC_NIST_P256, SIGN_VERIFY); AWS refuses it"
        ' (KMS Developer Guide, "Key spec reference": ECC_NIST_P256 supports ECDSA_SHA_256) (at states[0].expectations[0].algorithm)']


def test_a_mac_algorithm_of_another_hmac_spec_is_refused(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, "{as: tester, action: kms:GenerateMac, resource: key:mac, algorithm: HMAC_SHA_512, expect: denied}")
    assert len(found) == 1 and "HMAC_SHA_512 is not an algorithm of key 'mac'" in found[0] and "HMAC_256 supports HMAC_SHA_256" in found[0]


def test_sign_on_an_encrypt_decrypt_key_is_refused_at_load(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, "{as: tester, action: kms:Sign, resource: key:rsa_crypt, expect: denied}")
    assert found == ["26:30: kms:Sign needs a key with usage SIGN_VERIFY; key 'rsa_crypt' is RSA_3072 with usage"
                     ' ENCRYPT_DECRYPT (KMS answers InvalidKeyUsageException: "key usage is ENCRYPT_DECRYPT which is not'
                     ' valid for Sign") (at states[0].expectations[0].action)']


@pytest.mark.parametrize("expectation, words", [
    ("{as: tester, action: kms:GenerateMac, resource: key:rsa, expect: denied}", "needs a key with usage GENERATE_VERIFY_MAC"),
    ("{as: tester, action: kms:Encrypt, resource: key:mac, expect: denied}", "needs a key with usage ENCRYPT_DECRYPT"),
    ("{as: tester, action: kms:GetPublicKey, resource: key:mac, expect: denied}", "UnsupportedOperationException"),
    ("{as: tester, action: kms:GetPublicKey, resource: key:data, expect: denied}", "only an asymmetric key has a public key"),
    ("{as: tester, action: kms:GenerateDataKey, resource: key:rsa_crypt, expect: denied}", "needs a symmetric encryption key"),
])
def test_an_action_the_key_usage_refuses_is_located_at_the_action(tmp_path: Path, expectation: str, words: str) -> None:
    found = diagnostics(tmp_path, expectation)
    assert len(found) == 1 and words in found[0] and found[0].endswith("(at states[0].expectations[0].action)")


def test_an_offline_check_proves_allowed_only(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, "{as: tester, action: kms:Verify, resource: key:rsa, offline: true, expect: denied}")
    assert len(found) == 1 and "makes no KMS call" in found[0] and found[0].endswith("(at states[0].expectations[0].offline)")


@pytest.mark.parametrize("expectation, words", [
    ("{as: tester, action: kms:DescribeKey, resource: key:rsa, algorithm: RSASSA_PSS_SHA_256, expect: denied}",
     "algorithm applies only to"),
    ("{as: tester, action: kms:Sign, resource: key:rsa, offline: true, expect: allowed}", "offline applies only to kms:Verify"),
    ("{as: tester, action: kms:Encrypt, resource: key:rsa_crypt, encryption_context: {a: b}, expect: denied}",
     "an encryption context applies only to symmetric encryption keys"),
])
def test_algorithm_and_offline_belong_to_their_actions(tmp_path: Path, expectation: str, words: str) -> None:
    assert any(words in line for line in diagnostics(tmp_path, expectation))


def test_every_key_spec_and_usage_has_its_algorithms() -> None:
    """The algorithm table covers each spec/usage pair the key model allows (KEY_AGREEMENT has none)."""
    for spec, usages in KEY_USAGES_BY_SPEC.items():
        for usage in usages - {"KEY_AGREEMENT"}:
            assert ALGORITHMS[spec][usage], (spec, usage)
