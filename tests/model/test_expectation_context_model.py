"""Validation of an expectation's context (model/scenario.py): `encryption_context` only on the
KMS operations that take one (KMS API Reference, "Encrypt", "Decrypt", "ReEncrypt",
"GenerateDataKey": EncryptionContext), `source_ip` an IPv4/IPv6 address, `secure_transport` a bool;
each error located at its field."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.loader import ScenarioError, load_scenario

HEAD = """\
name: ctx
users:
  alice: {}
keys:
  data:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}
tables:
  orders:
    partition_key: {name: id}
states:
  - name: s
    expectations:
"""
LINE = HEAD.count("\n") + 1  # the expectation's line


def load(tmp_path: Path, expectation: str) -> object:
    path = tmp_path / "ctx.yaml"
    path.write_text(HEAD + "      - " + expectation + "\n")
    return load_scenario(path)


def error_of(tmp_path: Path, expectation: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, expectation)
    return str(caught.value)


@pytest.mark.parametrize("action", ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey"])
def test_encryption_context_on_kms_operations_that_take_one(tmp_path: Path, action: str) -> None:
    loaded = load(tmp_path, f"{{as: alice, action: {action}, resource: key:data, encryption_context: {{dept: finance}}, expect: allowed}}")
    expectation = loaded.scenario.states[0].expectations[0]  # type: ignore[attr-defined]
    assert expectation.encryption_context == {"dept": "finance"}


@pytest.mark.parametrize("action, resource", [("kms:DescribeKey", "key:data"), ("dynamodb:GetItem", "table:orders")])
def test_encryption_context_refused_elsewhere_at_its_field(tmp_path: Path, action: str, resource: str) -> None:
    message = error_of(tmp_path, f"{{as: alice, action: {action}, resource: {resource}, key: {{id: '1'}}, "
                                 "encryption_context: {dept: finance}, expect: allowed}")
    line = (tmp_path / "ctx.yaml").read_text().splitlines()[LINE - 1]
    assert f"ctx.yaml:{LINE}:{line.index('{dept') + 1}: " in message  # at the field's value
    assert f"encryption_context applies only to kms:Decrypt, kms:Encrypt, kms:GenerateDataKey, kms:ReEncrypt, not {action}" in message
    assert "(at states[0].expectations[0].encryption_context)" in message
    assert message.count("\n") == 0


def test_encryption_context_values_are_strings(tmp_path: Path) -> None:
    message = error_of(tmp_path, "{as: alice, action: kms:Encrypt, resource: key:data, encryption_context: {dept: [a]}, expect: allowed}")
    assert "(at states[0].expectations[0].encryption_context.dept)" in message


@pytest.mark.parametrize("value", ["10.0.0.300", "10.0.0.0/24", "localhost", "''"])
def test_source_ip_must_be_an_address(tmp_path: Path, value: str) -> None:
    message = error_of(tmp_path, f"{{as: alice, action: kms:DescribeKey, resource: key:data, source_ip: {value}, expect: allowed}}")
    assert "not an IPv4 or IPv6 address" in message
    assert f"ctx.yaml:{LINE}:" in message and "(at states[0].expectations[0].source_ip)" in message


@pytest.mark.parametrize("value, canonical", [("10.0.0.5", "10.0.0.5"), ("'2001:DB8::0:1'", "2001:db8::1")])
def test_source_ip_accepts_ipv4_and_ipv6(tmp_path: Path, value: str, canonical: str) -> None:
    loaded = load(tmp_path, f"{{as: alice, action: kms:DescribeKey, resource: key:data, source_ip: {value}, secure_transport: false, expect: allowed}}")
    expectation = loaded.scenario.states[0].expectations[0]  # type: ignore[attr-defined]
    assert (expectation.source_ip, expectation.secure_transport) == (canonical, False)


def test_secure_transport_is_a_bool(tmp_path: Path) -> None:
    message = error_of(tmp_path, "{as: alice, action: kms:DescribeKey, resource: key:data, secure_transport: sometimes, expect: allowed}")
    assert "(at states[0].expectations[0].secure_transport)" in message
