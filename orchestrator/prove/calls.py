"""The API call each expectation action makes, with the parameters AWS's API reference names.

kms:Decrypt and kms:ReEncrypt need a ciphertext: the orchestrator's own identity makes one
with the key (kept per key, so that a later state in which the key is disabled can still ask
for a decryption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.resources.context import Context
from orchestrator.resources.items import to_attribute_values

PLAINTEXT = b"orchestrate-probe"


@dataclass(frozen=True)
class CallSpec:
    service: str  # "dynamodb"
    operation: str  # "GetItem"
    method: str  # "get_item"
    params: dict[str, Any]


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def call_for(ctx: Context, desired: DesiredState, expectation: Expectation, ciphertexts: dict[str, bytes]) -> CallSpec:
    service, operation = expectation.action.split(":")
    kind, _, name = expectation.resource.partition(":")
    params = _table_params(ctx, desired, expectation, operation, name) if kind == "table" else _key_params(ctx, operation, name, ciphertexts)
    return CallSpec(service, operation, _snake(operation), params)


def _table_params(ctx: Context, desired: DesiredState, expectation: Expectation, operation: str, name: str) -> dict[str, Any]:
    table = ctx.physical(name)
    key = to_attribute_values(expectation.key or {})
    if operation == "GetItem" or operation == "DeleteItem":
        return {"TableName": table, "Key": key}
    if operation == "PutItem":
        return {"TableName": table, "Item": {**to_attribute_values(expectation.item or {}), **key}}
    if operation == "UpdateItem":
        return {"TableName": table, "Key": key, **_update_expression(expectation.item or {})}
    if operation == "Query":
        partition = desired.tables[name].partition_key.name
        return {"TableName": table, "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": partition}, "ExpressionAttributeValues": {":pk": key[partition]}}
    if operation == "Scan":
        return {"TableName": table, "Limit": 10}
    return {"TableName": table}


def _update_expression(item: dict[str, Any]) -> dict[str, Any]:
    if not item:
        return {}
    names = {f"#a{i}": attribute for i, attribute in enumerate(item)}
    values = to_attribute_values({f":v{i}": value for i, value in enumerate(item.values())})
    return {"UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(item))),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _key_params(ctx: Context, operation: str, name: str, ciphertexts: dict[str, bytes]) -> dict[str, Any]:
    key_arn = ctx.arn(f"key:{name}")
    if operation == "Decrypt":
        return {"CiphertextBlob": ciphertext(ctx, name, ciphertexts)}
    if operation == "ReEncrypt":
        return {"CiphertextBlob": ciphertext(ctx, name, ciphertexts), "DestinationKeyId": key_arn}
    if operation == "Encrypt":
        return {"KeyId": key_arn, "Plaintext": PLAINTEXT}
    if operation == "GenerateDataKey":
        return {"KeyId": key_arn, "KeySpec": "AES_256"}
    return {"KeyId": key_arn}


def ciphertext(ctx: Context, name: str, cache: dict[str, bytes]) -> bytes:
    """A ciphertext under the key, made by the orchestrator's identity while the key allows it."""
    try:
        blob = ctx.backend.client("kms").encrypt(KeyId=ctx.arn(f"key:{name}"), Plaintext=PLAINTEXT)["CiphertextBlob"]
        cache[name] = blob
    except Exception:
        if name not in cache:
            raise
    return cache[name]
