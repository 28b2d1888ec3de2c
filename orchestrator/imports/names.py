"""Scenario names for a template's resources, and the scenario's own name.

Names recovered in this order: the `orchestrate:name` tag orchestrate puts on what it creates
(README, "Backends": ownership tags), the resource's physical name property (UserName,
TableName, ...: "Resource and property reference" of each type), else its logical id; each made
to fit the model's name patterns (S3 User Guide, "Bucket naming rules" for buckets).
"""

from __future__ import annotations

from orchestrator.constants import TAG_NAME, TAG_SCENARIO

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The physical name property of each type whose resources become scenario entities.
NAME_PROPERTIES = {
    "AWS::KMS::Key": ("key", None), "AWS::DynamoDB::Table": ("table", "TableName"),
    "AWS::IAM::User": ("user", "UserName"), "AWS::IAM::Group": ("group", "GroupName"),
    "AWS::IAM::ManagedPolicy": ("policy", "ManagedPolicyName"), "AWS::IAM::Role": ("role", "RoleName"),
    "AWS::S3::Bucket": ("bucket", "BucketName"),
}
_IAM_PATH = re.compile(r"^/orchestrate/([A-Za-z0-9_.+=,@-]{1,64})/$")


def tags_of(properties: dict[str, Any]) -> dict[str, str]:
    """CloudFormation's `Tags: [{Key, Value}]` (or a mapping) as a dict."""
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    found: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and isinstance(tag.get("Key"), str) and isinstance(tag.get("Value"), (str, int, float)):
            found[tag["Key"]] = str(tag["Value"])
    return found


def fit(kind: str, raw: str) -> str:
    """``raw`` made to fit the model's pattern for ``kind``."""
    if kind == "bucket":
        name = re.sub(r"[^a-z0-9.-]", "-", raw.lower()).strip(".-")[:63].strip(".-")
        return name if len(name) >= 3 else f"{name or 'bucket'}-imported"[:63]
    if kind == "table":
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", raw)[:255]
        return name if len(name) >= 3 else f"{name}-table"
    return re.sub(r"[^A-Za-z0-9_.+=,@-]", "-", raw)[:64] or "imported"


#: What turns a property's value into text: its intrinsic functions resolved (`!Sub orders-${Env}`).
Resolve = Callable[[Any], Any]


def _as_is(value: Any) -> Any:
    return value


def physical_name(resource_type: str, properties: dict[str, Any], resolve: Resolve = _as_is) -> str | None:
    """The resource's physical name property (TableName, UserName, ...), resolved, when it is text."""
    name_property = NAME_PROPERTIES[resource_type][1]
    value = resolve(properties.get(name_property)) if name_property else None
    return value if isinstance(value, str) and value else None


def name_tag(properties: dict[str, Any], resolve: Resolve = _as_is) -> str | None:
    """The `orchestrate:name` tag's value, resolved."""
    return tags_of({"Tags": resolve(properties.get("Tags"))}).get(TAG_NAME)


def entity_name(logical: str, resource_type: str, properties: dict[str, Any], resolve: Resolve = _as_is) -> str:
    raw = name_tag(properties, resolve) or physical_name(resource_type, properties, resolve) or logical
    return fit(NAME_PROPERTIES[resource_type][0], raw)


def scenario_name(path: Path, body: dict[str, Any]) -> str:
    """`Metadata.Orchestrate.Scenario` (an export's), the `orchestrate:scenario` tag, an IAM path
    `/orchestrate/NAME/`, else the file's stem."""
    metadata = body.get("Metadata")
    named = metadata.get("Orchestrate") if isinstance(metadata, dict) else None
    if isinstance(named, dict) and isinstance(named.get("Scenario"), str):
        return fit("scenario", named["Scenario"])
    resources: dict[str, dict[str, Any]] = body["Resources"]
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            continue
        tagged = tags_of(properties).get(TAG_SCENARIO)
        if tagged:
            return fit("scenario", tagged)
        match = _IAM_PATH.match(properties.get("Path") if isinstance(properties.get("Path"), str) else "")
        if match:
            return match.group(1)
    return fit("scenario", path.stem.removesuffix(".template"))
