"""Amazon DynamoDB: the table action, then the table's KMS key on the caller's behalf.

Follows the IAM Service Authorization Reference, "Actions, resources, and
condition keys for Amazon DynamoDB" (table and index ARNs,
``dynamodb:LeadingKeys``; transactions need the per-item actions, see the
DynamoDB Developer Guide "Using IAM with DynamoDB transactions"), and the AWS
KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS":

* data-plane calls on a table protected by a customer managed key make DynamoDB
  call ``kms:Decrypt`` *as the caller*, with ``kms:ViaService`` =
  ``dynamodb.<region>.amazonaws.com`` and the encryption context
  ``aws:dynamodb:tableName`` / ``aws:dynamodb:subscriberId`` ("DynamoDB
  encryption context");
* creating a table (or switching its key) needs ``kms:DescribeKey`` and
  ``kms:CreateGrant`` through DynamoDB ("Key policy for a customer managed key");
* the AWS managed key ``aws/dynamodb`` allows every principal of the account
  through DynamoDB by its fixed key policy, so no KMS step is modelled for it.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from orchestrator import arns

from ..world import KeyInfo, PolicyDoc, TableInfo
from . import CRYPTO_STATES, Authorization, CallPlan, Denial, PlanContext, caller_context
from .kms import kms_step

__all__ = ["plan"]

ITEM_OPERATIONS = {"GetItem": "Key", "DeleteItem": "Key", "UpdateItem": "Key", "PutItem": "Item"}
SCAN_OPERATIONS = frozenset({"Query", "Scan"})
STAR_OPERATIONS = frozenset({"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups",
                             "ListGlobalTables", "ListExports", "ListImports"})
TRANSACT_ACTIONS = {"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem",
                    "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_EQUALITY = re.compile(r"(#?[A-Za-z0-9_.\-]+)\s*=\s*(:[A-Za-z0-9_]+)")


def _attribute_text(value: Any) -> str | None:
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    kind, raw = next(iter(value.items()))
    if kind in ("S", "N"):
        return str(raw)
    if kind == "B":
        return raw.decode("latin-1") if isinstance(raw, (bytes, bytearray)) else str(raw)
    return None


def _leading_from_item(table: TableInfo | None, item: Any) -> list[str]:
    if table is None or not isinstance(item, Mapping):
        return []
    text = _attribute_text(item.get(table.hash_key))
    return [] if text is None else [text]


def _leading_from_query(table: TableInfo | None, params: Mapping[str, Any]) -> list[str]:
    if table is None:
        return []
    legacy = (params.get("KeyConditions") or {}).get(table.hash_key) or {}
    values = [_attribute_text(v) for v in legacy.get("AttributeValueList", [])]
    names = params.get("ExpressionAttributeNames") or {}
    attribute_values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in _EQUALITY.findall(str(params.get("KeyConditionExpression", ""))):
        if names.get(name, name) == table.hash_key:
            values.append(_attribute_text(attribute_values.get(placeholder)))
    return [v for v in values if v is not None]


def _table_arn(ctx: PlanContext, name: str) -> str:
    if arns.is_arn(name):
        return name
    return arns.table_arn(ctx.region, ctx.account, name)


def _table_step(action: str, ctx: PlanContext, name: str, table: TableInfo | None,
                leading: Iterable[str] = (), index: str | None = None) -> Authorization:
    resource = table.arn if table is not None else _table_arn(ctx, name)
    if index:
        resource = f"{resource}/index/{index}"
    context: dict[str, tuple[str, ...]] = {}
    keys = tuple(dict.fromkeys(leading))
    if keys:
        context["dynamodb:LeadingKeys"] = keys
    policy = None
    if table is not None and table.resource_policy:
        policy = PolicyDoc("resource", f"table policy {table.arn}", table.resource_policy)
    return Authorization(action=action, resource=resource, context=context, resource_policy=policy,
                         resource_account=table.account if table else ctx.account, denial=Denial.JSON)


def customer_key(ctx: PlanContext, key_ref: str | None, account: str | None = None) -> KeyInfo | None:
    """The customer managed key behind ``key_ref`` (a key id is looked up in ``account``, the
    table's, by default the serving account); None for AWS managed/owned keys."""
    key = ctx.world.kms_key(key_ref, ctx.region, account or ctx.account) if key_ref else None
    return None if key is None or key.aws_managed else key


def _via_dynamodb(ctx: PlanContext, table_name: str, account: str) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    pairs = {"aws:dynamodb:tableName": table_name, "aws:dynamodb:subscriberId": account}
    context = caller_context(ctx)
    context["kms:ViaService"] = (f"dynamodb.{ctx.region}.amazonaws.com",)
    context.update({f"kms:EncryptionContext:{k}": (v,) for k, v in pairs.items()})
    context["kms:EncryptionContextKeys"] = tuple(pairs)
    return context, pairs


def _decrypt_step(ctx: PlanContext, table: TableInfo | None) -> Authorization | None:
    """DynamoDB's ``kms:Decrypt`` of the table key, made as the caller."""
    key = customer_key(ctx, table.kms_key_ref, table.account) if table is not None else None
    if key is None or table is None:
        return None
    context, pairs = _via_dynamodb(ctx, table.name, table.account)
    context["kms:EncryptionAlgorithm"] = ("SYMMETRIC_DEFAULT",)
    return kms_step("kms:Decrypt", key, context, pairs, Denial.DYNAMODB_KMS, CRYPTO_STATES)


def _table_and_key(action: str, ctx: PlanContext, name: str, leading: Iterable[str] = (),
                   index: str | None = None) -> list[Authorization]:
    table = ctx.world.table(name, ctx.region, ctx.account)
    steps = [_table_step(action, ctx, name, table, leading, index)]
    decrypt = _decrypt_step(ctx, table)
    return steps + ([decrypt] if decrypt is not None else [])


def _item(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    name = str(params.get("TableName", ""))
    table = ctx.world.table(name, ctx.region, ctx.account)
    leading = _leading_from_item(table, params.get(ITEM_OPERATIONS[operation]))
    return _table_and_key(f"dynamodb:{operation}", ctx, name, leading)


def _scan(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    name = str(params.get("TableName", ""))
    table = ctx.world.table(name, ctx.region, ctx.account)
    leading = _leading_from_query(table, params) if operation == "Query" else []
    return _table_and_key(f"dynamodb:{operation}", ctx, name, leading, params.get("IndexName"))


def _batch_leading(table: TableInfo | None, entries: Any) -> list[str]:
    if isinstance(entries, Mapping):  # BatchGetItem: {"Keys": [...]}
        return [v for key in entries.get("Keys", []) for v in _leading_from_item(table, key)]
    found: list[str] = []
    for request in entries or []:  # BatchWriteItem: [{"PutRequest": {"Item"}}, {"DeleteRequest": {"Key"}}]
        body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
        found.extend(_leading_from_item(table, body))
    return found


def _batch(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    steps: list[Authorization] = []
    for name, entries in (params.get("RequestItems") or {}).items():
        table = ctx.world.table(name, ctx.region, ctx.account)
        steps.extend(_table_and_key(f"dynamodb:{operation}", ctx, name, _batch_leading(table, entries)))
    return steps


def _transact(params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    steps: list[Authorization] = []
    for entry in params.get("TransactItems") or []:
        for kind, body in entry.items():
            name = str(body.get("TableName", ""))
            table = ctx.world.table(name, ctx.region, ctx.account)
            leading = _leading_from_item(table, body.get("Key") or body.get("Item"))
            steps.extend(_table_and_key(f"dynamodb:{TRANSACT_ACTIONS.get(kind, kind)}", ctx, name, leading))
    return steps


def _sse_key_steps(ctx: PlanContext, name: str, params: Mapping[str, Any]) -> list[Authorization]:
    """CreateTable/UpdateTable with a customer managed key: DescribeKey + CreateGrant via DynamoDB."""
    sse = params.get("SSESpecification") or {}
    key = customer_key(ctx, sse.get("KMSMasterKeyId")) if sse.get("Enabled") else None
    if key is None:
        return []
    context, pairs = _via_dynamodb(ctx, name, ctx.account)
    describe = kms_step("kms:DescribeKey", key, context, pairs, Denial.DYNAMODB_KMS, ())
    grant_context = dict(context)
    grant_context["kms:GrantIsForAWSResource"] = ("true",)
    grant = kms_step("kms:CreateGrant", key, grant_context, pairs, Denial.DYNAMODB_KMS, CRYPTO_STATES)
    return [describe, grant]


def _table_admin(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    name = str(params.get("TableName") or params.get("ResourceArn") or "")
    table = ctx.world.table(name, ctx.region, ctx.account)
    steps = [_table_step(f"dynamodb:{operation}", ctx, name, table)]
    if operation in ("CreateTable", "UpdateTable"):
        steps.extend(_sse_key_steps(ctx, name, params))
    return steps


def _steps(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> list[Authorization]:
    if operation in ITEM_OPERATIONS:
        return _item(operation, params, ctx)
    if operation in SCAN_OPERATIONS:
        return _scan(operation, params, ctx)
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return _batch(operation, params, ctx)
    if operation in ("TransactGetItems", "TransactWriteItems"):
        return _transact(params, ctx)
    if operation in STAR_OPERATIONS or not (params.get("TableName") or params.get("ResourceArn")):
        return [Authorization(action=f"dynamodb:{operation}", resource="*", denial=Denial.JSON)]
    return _table_admin(operation, params, ctx)


def plan(operation: str, params: Mapping[str, Any], ctx: PlanContext) -> CallPlan:
    """The DynamoDB authorizations of one call, table action first."""
    return CallPlan("dynamodb", operation, tuple(_steps(operation, params, ctx)))
