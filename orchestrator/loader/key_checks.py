"""Checks on expectations that act on a KMS key, against the key's spec and usage.

* The action fits the key usage, as AWS would require: kms:Sign and kms:Verify need SIGN_VERIFY,
  kms:GenerateMac and kms:VerifyMac GENERATE_VERIFY_MAC, kms:Encrypt, kms:Decrypt and
  kms:ReEncrypt ENCRYPT_DECRYPT (KMS answers `InvalidKeyUsageException`, "<key arn> key usage is
  SIGN_VERIFY which is not valid for Encrypt."); kms:GenerateDataKey a symmetric encryption key, and
  kms:GetPublicKey an asymmetric key (an HMAC or symmetric key has no public key:
  `UnsupportedOperationException`). Such a call decides nothing about access, so it is refused
  here (KMS API Reference, "Sign", "GenerateMac", "Encrypt", "GetPublicKey").
* `algorithm` is one the key spec supports (KMS Developer Guide, "Key spec reference": RSA keys
  encrypt with RSAES_OAEP_SHA_1/256 and sign with RSASSA_PSS_* / RSASSA_PKCS1_V1_5_*, ECC_NIST_P256
  and ECC_SECG_P256K1 sign with ECDSA_SHA_256, P384 with ECDSA_SHA_384, P521 with ECDSA_SHA_512,
  HMAC_<n> keys compute HMAC_SHA_<n> only, a symmetric key encrypts with SYMMETRIC_DEFAULT).
* `encryption_context` only with a symmetric encryption key (KMS Developer Guide, "Encryption
  context": asymmetric and HMAC keys take none).
* Key management (KMS Developer Guide, "Key states of AWS KMS keys"): kms:CancelKeyDeletion only
  on a key the state declares `pending_deletion: true` (on any other KMS answers
  KMSInvalidStateException whatever the policies say, and orchestrate could not put a
  cancelled deletion back as the state declares it); kms:RevokeGrant and kms:RetireGrant not on a key
  pending deletion (orchestrate's throwaway grant, which the principal revokes or retires, cannot be
  created on it).
* `resource: alias:NAME` names an alias of a scenario key (`aliases: [alias/NAME]`), with an
  action whose KeyId takes an alias (KMS Developer Guide, "Using aliases to control access to
  KMS keys": kms:RequestAlias applies to the cryptographic operations, DescribeKey and GetPublicKey).
* `offline: true` proves a verification that succeeds (`expect: allowed`): there is no access
  decision to deny, the public key is public.
"""

from __future__ import annotations

from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.validation import Problem
from orchestrator.model.resources import Key
from orchestrator.model.scenario import ALIAS_ACTIONS, DesiredState, Expectation

Path = tuple[PathElement, ...]
_RSA_ENCRYPTION = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
_RSA_SIGNING = ("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512")
#: KMS Developer Guide, "Key spec reference": key spec -> key usage -> the algorithms it supports.
ALGORITHMS: dict[str, dict[str, tuple[str, ...]]] = {
    "SYMMETRIC_DEFAULT": {"ENCRYPT_DECRYPT": ("SYMMETRIC_DEFAULT",)},
    **{f"RSA_{bits}": {"ENCRYPT_DECRYPT": _RSA_ENCRYPTION, "SIGN_VERIFY": _RSA_SIGNING} for bits in (2048, 3072, 4096)},
    "ECC_NIST_P256": {"SIGN_VERIFY": ("ECDSA_SHA_256",)},
    "ECC_NIST_P384": {"SIGN_VERIFY": ("ECDSA_SHA_384",)},
    "ECC_NIST_P521": {"SIGN_VERIFY": ("ECDSA_SHA_512",)},
    "ECC_SECG_P256K1": {"SIGN_VERIFY": ("ECDSA_SHA_256",)},
    **{f"HMAC_{bits}": {"GENERATE_VERIFY_MAC": (f"HMAC_SHA_{bits}",)} for bits in (224, 256, 384, 512)},
    "SM2": {"ENCRYPT_DECRYPT": ("SM2PKE",), "SIGN_VERIFY": ("SM2DSA",)},
}
#: The key usage each expectation action needs (KMS API Reference, each operation's KeyId).
USAGE_OF_ACTION: dict[str, str] = {
    "kms:Encrypt": "ENCRYPT_DECRYPT", "kms:Decrypt": "ENCRYPT_DECRYPT", "kms:ReEncrypt": "ENCRYPT_DECRYPT",
    "kms:GenerateDataKey": "ENCRYPT_DECRYPT", "kms:Sign": "SIGN_VERIFY", "kms:Verify": "SIGN_VERIFY",
    "kms:GenerateMac": "GENERATE_VERIFY_MAC", "kms:VerifyMac": "GENERATE_VERIFY_MAC",
}


def algorithms_for(key: Key) -> tuple[str, ...]:
    """The algorithms the key's spec supports for its usage (empty: none, as KEY_AGREEMENT)."""
    return ALGORITHMS.get(key.spec, {}).get(key.usage, ())


def default_algorithm(key: Key) -> str | None:
    """What orchestrate sends when the expectation names no algorithm: the spec's first."""
    found = algorithms_for(key)
    return found[0] if found else None


def check_key_expectation(key_name: str, key: Key, expectation: Expectation, path: Path) -> list[Problem]:
    """The action against the key's usage, spec and declared state, then the algorithm against the spec."""
    problem = key_action_problem(key_name, key, expectation.action)
    if problem is not None:
        return [Problem(path + ("action",), problem)]
    problems = []
    if expectation.algorithm is not None and expectation.algorithm not in algorithms_for(key):
        supported = ", ".join(algorithms_for(key)) or "none"
        problems.append(Problem(path + ("algorithm",), (
            f"{expectation.algorithm} is not an algorithm of key {key_name!r} ({key.spec}, {key.usage}); AWS refuses it"
            f" (KMS Developer Guide, \"Key spec reference\": {key.spec} supports {supported})")))
    if expectation.encryption_context is not None and key.spec != "SYMMETRIC_DEFAULT":
        problems.append(Problem(path + ("encryption_context",), (
            f"key {key_name!r} is {key.spec}: an encryption context applies only to symmetric encryption keys"
            " (KMS Developer Guide, \"Encryption context\"; KMS refuses it with an asymmetric key)")))
    if expectation.offline and expectation.expect != "allowed":
        problems.append(Problem(path + ("offline",), "an offline verification makes no KMS call, so nothing can deny it:"
                                                     " it proves `expect: allowed` only"))
    return problems


def check_alias_expectation(desired: DesiredState, expectation: Expectation, path: Path) -> list[Problem]:
    """`alias:NAME`: an alias a scenario key declares, an action that takes an alias, then the
    key's own checks."""
    alias = "alias/" + expectation.resource.partition(":")[2]
    owners = [name for name, key in desired.keys.items() if alias in key.aliases]
    if not owners:
        known = sorted(a.removeprefix("alias/") for key in desired.keys.values() for a in key.aliases)
        hint = f" (aliases: {', '.join(known)})" if known else " (no key declares `aliases`)"
        return [Problem(path + ("resource",), f"{expectation.resource!r} names no alias of a key of this scenario{hint}")]
    if expectation.action not in ALIAS_ACTIONS:
        return [Problem(path + ("action",), (
            f"{expectation.action} takes no alias as KeyId (KMS API Reference: only the cryptographic operations,"
            f" DescribeKey and GetPublicKey do): use key:{owners[0]}"))]
    return check_key_expectation(owners[0], desired.keys[owners[0]], expectation, path)


def key_action_problem(key_name: str, key: Key, action: str) -> str | None:
    """Why ``action`` on the key proves nothing about access (its usage, spec or declared state), or None."""
    return _usage_problem(key_name, key, action) or _state_problem(key_name, key, action)


def _state_problem(key_name: str, key: Key, action: str) -> str | None:
    """A management action the key's declared state makes meaningless (module docstring)."""
    if action == "kms:CancelKeyDeletion" and not key.pending_deletion:
        return (f"kms:CancelKeyDeletion needs a key pending deletion; key {key_name!r} is {key.state} in this state"
                " (KMS answers KMSInvalidStateException whatever the policies say): declare `pending_deletion: true`")
    if action in ("kms:RevokeGrant", "kms:RetireGrant") and key.pending_deletion:
        verb = "revokes" if action == "kms:RevokeGrant" else "retires"
        return (f"{action} {verb} a throwaway grant orchestrate creates first, and key {key_name!r} is pending"
                " deletion (CreateGrant answers KMSInvalidStateException)")
    return None


def _usage_problem(key_name: str, key: Key, action: str) -> str | None:
    """Why AWS would refuse ``action`` on the key whatever the policies say, or None."""
    if action == "kms:GetPublicKey":
        if key.spec == "SYMMETRIC_DEFAULT" or key.spec.startswith("HMAC_"):
            return (f"key {key_name!r} is {key.spec}: only an asymmetric key has a public key"
                    " (GetPublicKey answers UnsupportedOperationException)")
        return None
    if action == "kms:GenerateDataKey" and key.spec != "SYMMETRIC_DEFAULT":
        return (f"kms:GenerateDataKey needs a symmetric encryption key; key {key_name!r} is {key.spec}"
                " (KMS answers InvalidKeyUsageException)")
    needed = USAGE_OF_ACTION.get(action)
    if needed is not None and key.usage != needed:
        return (f"{action} needs a key with usage {needed}; key {key_name!r} is {key.spec} with usage {key.usage}"
                f" (KMS answers InvalidKeyUsageException: \"key usage is {key.usage} which is not valid for"
                f" {action.removeprefix('kms:')}\")")
    return None
