"""DynamoDB tables: key schema, billing mode, encryption at rest with its key, tags, seed items,
and the table's resource-based policy.

DynamoDB API Reference: CreateTable, UpdateTable (BillingMode, SSESpecification), TagResource,
DeleteTable; seed items with PutItem, read back with BatchGetItem; PutResourcePolicy,
GetResourcePolicy, DeleteResourcePolicy (DynamoDB Developer Guide, "Using resource-based policies
for DynamoDB"). Only the declared items are compared: rows that expectations write are the
scenario's business, not drift.
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code, retag, tag_dict, tag_list, user_tags
from orchestrator.resources.context import RunContext
from orchestrator.resources.items import from_attribute_values, item_key, sorted_items, to_attribute_values



def _aws_managed(ctx: RunContext, key_arn: str) -> bool:
    """KeyManager AWS, or (moto reports its aws/dynamodb key as CUSTOMER) an alias under the
    alias/aws/ prefix, which AWS reserves for AWS managed keys."""
    kms = ctx.backend.client("kms")
    try:
        if kms.describe_key(KeyId=key_arn)["KeyMetadata"].get("KeyManager") == "AWS":
            return True
        aliases = kms.list_aliases(KeyId=key_arn.rpartition("/")[2])["Aliases"]
        return any(alias["AliasName"].startswith("alias/aws/") for alias in aliases)
    except Exception as error:
        if error_code(error) in ("NotFoundException", "AccessDeniedException"):
            return False
        raise


class DynamoDBTable:
    kind: ClassVar[str] = "dynamodb_table"
    section: ClassVar[str] = "tables"
    permissions: ClassVar[tuple[str, ...]] = (
        "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
        "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
        "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy", "kms:DescribeKey", "kms:ListAliases", "kms:CreateGrant", "kms:Decrypt",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset({"key_schema"})
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        """The tables orchestrate keeps: not a `create_only` one, which its dynamodb:CreateTable
        expectation's principal creates and orchestrate deletes right after (prove/calls.py), so
        plan, apply, drift and destroy leave it alone."""
        return [name for name, table in desired.tables.items() if not table.create_only]

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        table = desired.tables[name]
        properties: dict[str, Any] = {
            "key_schema": [{"name": a.name, "type": a.type} for a in table.key_attributes()],
            "billing_mode": table.billing_mode,
            "capacity": self._capacity(table.read_capacity, table.write_capacity),
            "encryption": self._encryption(ctx, table.encryption),
            "tags": dict(table.tags),
            "policy": self._policy(ctx, table.policy),
        }
        key_name = table.key_name()
        # A table whose key is disabled or pending deletion can be neither read nor written: its
        # items are unknowable.
        if key_name is None or desired.keys[key_name].usable:
            names = [a.name for a in table.key_attributes()]
            properties["items"] = sorted_items(table.items, names)
        return properties

    @staticmethod
    def _policy(ctx: RunContext, policy: Any) -> dict[str, Any] | None:
        """The table policy with references resolved (`table:NAME` is the table's own ARN)."""
        if policy is None:
            return None
        return normalise_policy(ctx.resolve_policy(policy.model_dump(mode="json", by_alias=True, exclude_none=True)))

    @staticmethod
    def _capacity(read: int | None, write: int | None) -> dict[str, int] | None:
        return {"read": read, "write": write} if read is not None and write is not None else None

    @staticmethod
    def _encryption(ctx: RunContext, encryption: str) -> dict[str, str | None]:
        if encryption == "aws-owned":
            return {"type": "aws-owned", "key": None}
        if encryption == "aws-managed":
            return {"type": "aws-managed", "key": None}
        return {"type": "customer-managed", "key": ctx.arn(encryption)}

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        dynamodb = ctx.backend.client("dynamodb")
        try:
            table = dynamodb.describe_table(TableName=ctx.physical(name))["Table"]
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        if table.get("TableStatus") == "DELETING":
            return None
        tags = tag_dict(dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"))
        properties = {
            "key_schema": self._key_schema(table),
            "billing_mode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "capacity": self._observed_capacity(table),
            "encryption": self._observed_encryption(ctx, table.get("SSEDescription")),
            "tags": user_tags(tags),
            "policy": self._observed_policy(ctx, table["TableArn"]),
        }
        owned = ctx.owns(tags) or ctx.adopt
        if owned and desired is not None and "items" in desired:
            names = [a["name"] for a in properties["key_schema"]]
            keys = [item_key(item, names) for item in desired["items"]]
            items = self.readable_items(ctx, name, keys, names) if properties["key_schema"] == desired["key_schema"] else []
            if items is not None:  # None: the table's key cannot be used now; its items are unknowable
                properties["items"] = items
        return Observed(properties, owned=owned, physical_id=table["TableArn"], adopted=owned and not ctx.owns(tags))

    @staticmethod
    def _observed_policy(ctx: RunContext, arn: str) -> dict[str, Any] | None:
        """GetResourcePolicy; a table without one answers PolicyNotFoundException. An endpoint
        that does not implement the call (HTTP 501, UnknownOperationException: emulators) has no
        table policies to observe: a scenario that declares one fails at PutResourcePolicy with
        the endpoint's own error instead of every table read failing."""
        try:
            document = ctx.backend.client("dynamodb").get_resource_policy(ResourceArn=arn)["Policy"]
        except Exception as error:
            if error_code(error) == "PolicyNotFoundException" or _not_implemented(error):
                return None
            raise
        return normalise_policy(document)

    def read_items(self, ctx: RunContext, name: str, keys: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
        """The declared items as they are now (BatchGetItem, 100 keys a call)."""
        dynamodb = ctx.backend.client("dynamodb")
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {ctx.physical(name): {"Keys": [to_attribute_values(k) for k in keys[start:start + 100]], "ConsistentRead": True}}
            while request:
                answer = dynamodb.batch_get_item(RequestItems=request)
                found += [from_attribute_values(i) for i in answer["Responses"].get(ctx.physical(name), [])]
                request = answer.get("UnprocessedKeys") or {}
        return sorted_items(found, names)

    def readable_items(self, ctx: RunContext, name: str, keys: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]] | None:
        """read_items, or None when DynamoDB cannot use the table's key because of its state (KMS
        Developer Guide, "Key states of AWS KMS keys": disabled, or pending deletion, say out of
        band or before a plan's re-enabling is applied): unknowable items are not missing ones."""
        try:
            return self.read_items(ctx, name, keys, names)
        except Exception as error:
            message = str(getattr(error, "response", {}).get("Error", {}).get("Message", ""))
            if error_code(error) == "AccessDeniedException" and ("DisabledException" in message or "KMSInvalidStateException" in message):
                return None
            raise

    @staticmethod
    def _key_schema(table: dict[str, Any]) -> list[dict[str, str]]:
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        ordered = sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
        return [{"name": k["AttributeName"], "type": types[k["AttributeName"]]} for k in ordered]

    @staticmethod
    def _observed_capacity(table: dict[str, Any]) -> dict[str, int] | None:
        mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        throughput = table.get("ProvisionedThroughput", {})
        if mode == "PAY_PER_REQUEST":
            return None
        return {"read": throughput.get("ReadCapacityUnits"), "write": throughput.get("WriteCapacityUnits")}

    @staticmethod
    def _observed_encryption(ctx: RunContext, sse: dict[str, Any] | None) -> dict[str, str | None]:
        if not sse or sse.get("Status") not in ("ENABLED", "UPDATING", "ENABLING"):
            return {"type": "aws-owned", "key": None}
        key_arn = sse.get("KMSMasterKeyArn")
        if key_arn and (key_arn in ctx.known.values() or not _aws_managed(ctx, key_arn)):
            return {"type": "customer-managed", "key": key_arn}
        return {"type": "aws-managed", "key": None}

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        dynamodb = ctx.backend.client("dynamodb")
        schema = after["key_schema"]
        arguments: dict[str, Any] = {
            "TableName": ctx.physical(name),
            "KeySchema": [{"AttributeName": a["name"], "KeyType": kind} for a, kind in zip(schema, ("HASH", "RANGE"))],
            "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in schema],
            "BillingMode": after["billing_mode"],
            "Tags": tag_list({**after["tags"], **ctx.ownership_tags(name)}),
        }
        if after["capacity"]:
            arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": after["capacity"]["read"], "WriteCapacityUnits": after["capacity"]["write"]}
        sse = self._sse_specification(after["encryption"])
        if sse:
            arguments["SSESpecification"] = sse
        made = dynamodb.create_table(**arguments).get("TableDescription", {})
        if made.get("TableStatus") != "ACTIVE":  # AWS answers CREATING; moto, ACTIVE at once: no DescribeTable to wait for
            dynamodb.get_waiter("table_exists").wait(TableName=ctx.physical(name), WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        self._put_policy(ctx, name, None, after["policy"])
        self._write_items(ctx, name, [], after.get("items", []))

    @staticmethod
    def _sse_specification(encryption: dict[str, str | None]) -> dict[str, Any] | None:
        if encryption["type"] == "aws-owned":
            return None
        if encryption["type"] == "aws-managed":
            return {"Enabled": True, "SSEType": "KMS"}
        return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": encryption["key"]}

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        dynamodb = ctx.backend.client("dynamodb")
        table_name = ctx.physical(name)
        if before["billing_mode"] != after["billing_mode"] or before["capacity"] != after["capacity"]:
            arguments: dict[str, Any] = {"TableName": table_name, "BillingMode": after["billing_mode"]}
            if after["capacity"]:
                arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": after["capacity"]["read"], "WriteCapacityUnits": after["capacity"]["write"]}
            dynamodb.update_table(**arguments)
        if before["encryption"] != after["encryption"]:
            sse = self._sse_specification(after["encryption"]) or {"Enabled": False}
            dynamodb.update_table(TableName=table_name, SSESpecification=sse)
        self._retag(ctx, name, before["tags"], after["tags"])
        self._put_policy(ctx, name, before.get("policy"), after["policy"])
        if "items" in after:
            self._write_items(ctx, name, before.get("items", []), after["items"])

    @staticmethod
    def _put_policy(ctx: RunContext, name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """PutResourcePolicy when the policy changed, DeleteResourcePolicy when it is no longer declared.

        Before the items are seeded, so a policy that denies seeding fails the apply as on AWS."""
        if before == after:
            return
        dynamodb = ctx.backend.client("dynamodb")
        arn = ctx.arn(f"table:{name}")
        if after is None:
            dynamodb.delete_resource_policy(ResourceArn=arn)
        else:
            dynamodb.put_resource_policy(ResourceArn=arn, Policy=policy_json(after))

    def _retag(self, ctx: RunContext, name: str, before: dict[str, str], after: dict[str, str]) -> None:
        dynamodb = ctx.backend.client("dynamodb")
        arn = ctx.arn(f"table:{name}")
        retag(before, after, lambda keys: dynamodb.untag_resource(ResourceArn=arn, TagKeys=keys),
              lambda tags: dynamodb.tag_resource(ResourceArn=arn, Tags=tag_list(tags)))

    @staticmethod
    def _write_items(ctx: RunContext, name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
        dynamodb = ctx.backend.client("dynamodb")
        for item in after:
            if item not in before:
                dynamodb.put_item(TableName=ctx.physical(name), Item=to_attribute_values(item))

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """DeleteTable, then wait until it is gone: a replacement of the same name needs that.

        The table policy is deleted first: moto 5.2 keeps it after DeleteTable and would hand it to
        the next table of that name (docs/embedded-departures.md); on AWS it is one call more."""
        dynamodb = ctx.backend.client("dynamodb")
        if before.get("policy") is not None:
            self._put_policy(ctx, name, before["policy"], None)
        dynamodb.delete_table(TableName=ctx.physical(name))
        dynamodb.get_waiter("table_not_exists").wait(TableName=ctx.physical(name), WaiterConfig={"Delay": 2, "MaxAttempts": 150})

    def claim(self, ctx: RunContext, name: str) -> None:
        """--adopt: mark the table as this scenario's, so later runs own it without --adopt."""
        dynamodb = ctx.backend.client("dynamodb")
        dynamodb.tag_resource(ResourceArn=ctx.arn(f"table:{name}"), Tags=tag_list(ctx.ownership_tags(name)))


def _not_implemented(error: BaseException) -> bool:
    response = getattr(error, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 501 or error_code(error) in ("UnknownOperationException", "NotImplemented")
