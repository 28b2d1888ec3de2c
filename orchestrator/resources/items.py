"""Seed items: plain YAML values to DynamoDB attribute values and back.

Numbers become DynamoDB N (Decimal on the wire) and come back as int when integral, so a
declared `total: 42` and the stored `{"N": "42"}` compare equal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _to_wire(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_wire(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value"), bytes):  # boto3 Binary
        return bytes(value.value)
    return value


def to_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {name: serializer.serialize(_to_wire(value)) for name, value in item.items()}


def from_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: _from_wire(deserializer.deserialize(value)) for name, value in item.items()}


def item_key(item: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}


def sorted_items(items: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Items in key order, numbers normalised, so that lists compare as sets would."""
    normalised = [_from_wire(_to_wire(item)) for item in items]
    return sorted(normalised, key=lambda item: json.dumps(item_key(item, names), sort_keys=True, default=str))
