"""IAM and KMS policy documents, modelled rather than kept as opaque strings.

Follows the IAM User Guide, "IAM JSON policy elements reference" (Version, Statement, Sid,
Effect, Principal/NotPrincipal, Action/NotAction, Resource/NotResource, Condition) and
"IAM JSON policy elements: Condition operators". AWS's shorthand is accepted: a single
string wherever a list is allowed, and a single statement object for `Statement`. The
shorthand is kept as written so that a loaded scenario dumps back to the same document;
`orchestrator.model.normalise` turns it into lists.

Scenario entities may be named symbolically (`user:tester`, `key:data`, `table:orders`,
`role:NAME`, `bucket:NAME`, `object:BUCKET/KEY`, `account`) in Principal/NotPrincipal, Resource/NotResource and in the values of Arn*
conditions; they are resolved to ARNs at apply time. `orchestrate` names the identity orchestrate
runs as (in Principal/NotPrincipal and Arn conditions only): every ARN AWS matches for it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ACTION_PATTERN = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
REFERENCE_PATTERN = re.compile(r"^((user|key|table|group|policy|role|bucket|account):([A-Za-z0-9_.+=,@-]+)|object:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*"
                               r"|session:[A-Za-z0-9_.+=,@-]{1,64}/[A-Za-z0-9_+=,.@-]{2,64})$")
ARN_PATTERN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|\*):[a-z0-9*?-]*:[a-z0-9*?-]*:(\d{12}|\*|\?|)?:.+$")
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")

# Condition operators as documented in "IAM JSON policy elements: Condition operators".
CONDITION_OPERATORS = frozenset(
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals",
        "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
        "DateGreaterThan", "DateGreaterThanEquals",
        "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
        "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
        "Null",
    }
)
SET_PREFIXES = ("ForAllValues:", "ForAnyValue:")
ARN_OPERATORS = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})

StrOrList = str | list[str]
ConditionValue = str | bool | int | float | list[str | bool | int | float]


def base_operator(operator: str) -> str | None:
    """`ForAnyValue:StringLikeIfExists` -> `StringLike`; None when AWS documents no such operator."""
    name = operator
    for prefix in SET_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if name.endswith("IfExists") and name != "IfExists":
        name = name[: -len("IfExists")]
        if name == "Null":  # Null has no IfExists form
            return None
    return name if name in CONDITION_OPERATORS else None


def as_list(value: Any) -> list[Any]:
    """AWS's shorthand: a single value where a list is allowed."""
    return list(value) if isinstance(value, list) else [value]


#: The identity orchestrate runs as, in the policy's account (resources/context.py: orchestrate_arns).
ORCHESTRATE = "orchestrate"


def is_reference(value: str) -> bool:
    return value in ("account", ORCHESTRATE) or REFERENCE_PATTERN.match(value) is not None


def _check_actions(value: StrOrList) -> StrOrList:
    for action in as_list(value):
        if not ACTION_PATTERN.match(action):
            raise ValueError(
                f"{action!r} is not an action: expected 'service:Action' (wildcards * and ? allowed) or '*'"
            )
    return value


def _check_resources(value: StrOrList) -> StrOrList:
    for resource in as_list(value):
        if resource == ORCHESTRATE:
            raise ValueError(f"{ORCHESTRATE!r} names a principal (orchestrate's own identity), not a resource:"
                             " use it in Principal, NotPrincipal or an Arn condition")
        if resource == "*" or is_reference(resource):
            continue
        if not ARN_PATTERN.match(resource):
            raise ValueError(
                f"{resource!r} is not a resource: expected '*', an ARN (arn:aws:service:region:account:resource)"
                " or a scenario reference (key:NAME, table:NAME, user:NAME, role:NAME, bucket:NAME, object:BUCKET/KEY)"
            )
    return value


def _check_principal_value(value: str) -> None:
    if value == "*" or is_reference(value) or ACCOUNT_ID_PATTERN.match(value):
        return
    if ARN_PATTERN.match(value) and (":iam:" in value or ":sts:" in value):
        return
    raise ValueError(
        f"{value!r} is not a principal: expected '*', a 12-digit account id, an IAM ARN,"
        " 'account', 'orchestrate', user:NAME or role:NAME"
    )


class PrincipalMap(BaseModel):
    """The object form of Principal: {"AWS": ..., "Service": ..., ...}."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    aws: StrOrList | None = Field(default=None, alias="AWS")
    service: StrOrList | None = Field(default=None, alias="Service")
    federated: StrOrList | None = Field(default=None, alias="Federated")
    canonical_user: StrOrList | None = Field(default=None, alias="CanonicalUser")

    @field_validator("aws")
    @classmethod
    def _aws_values(cls, value: StrOrList | None) -> StrOrList | None:
        for item in as_list(value) if value is not None else []:
            _check_principal_value(item)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> PrincipalMap:
        if not self.model_fields_set:
            raise ValueError("a Principal object needs at least one of AWS, Service, Federated, CanonicalUser")
        return self


Principal = Literal["*"] | PrincipalMap
Conditions = dict[str, dict[str, ConditionValue]]


class Statement(BaseModel):
    """One policy statement (IAM JSON policy elements reference)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sid: Annotated[str, Field(pattern=r"^[A-Za-z0-9]*$")] | None = Field(default=None, alias="Sid")
    effect: Literal["Allow", "Deny"] = Field(alias="Effect")
    principal: Principal | None = Field(default=None, alias="Principal")
    not_principal: Principal | None = Field(default=None, alias="NotPrincipal")
    action: StrOrList | None = Field(default=None, alias="Action")
    not_action: StrOrList | None = Field(default=None, alias="NotAction")
    resource: StrOrList | None = Field(default=None, alias="Resource")
    not_resource: StrOrList | None = Field(default=None, alias="NotResource")
    condition: Conditions | None = Field(default=None, alias="Condition")

    @field_validator("action", "not_action")
    @classmethod
    def _actions(cls, value: StrOrList | None) -> StrOrList | None:
        return value if value is None else _check_actions(value)

    @field_validator("not_principal")
    @classmethod
    def _not_principal_denies(cls, value: Principal | None, info: ValidationInfo) -> Principal | None:
        """IAM User Guide, "AWS JSON policy elements: NotPrincipal": AWS does not support NotPrincipal
        with "Effect": "Allow"; it is only for Deny statements."""
        if value is not None and info.data.get("effect") == "Allow":
            raise ValueError(
                "NotPrincipal cannot be used with Effect Allow: AWS supports it only in Deny statements"
                " (IAM User Guide, \"AWS JSON policy elements: NotPrincipal\"); name the principals in Principal instead"
            )
        return value

    @field_validator("resource", "not_resource")
    @classmethod
    def _resources(cls, value: StrOrList | None) -> StrOrList | None:
        return value if value is None else _check_resources(value)

    @field_validator("condition")
    @classmethod
    def _operators(cls, value: Conditions | None) -> Conditions | None:
        for operator, block in (value or {}).items():
            if base_operator(operator) is None:
                raise ValueError(f"{operator!r} is not a condition operator that AWS documents")
            if not block:
                raise ValueError(f"condition operator {operator!r} needs at least one condition key")
        return value

    @model_validator(mode="after")
    def _exclusive_elements(self) -> Statement:
        if (self.action is None) == (self.not_action is None):
            raise ValueError("a statement needs exactly one of Action or NotAction")
        if self.resource is not None and self.not_resource is not None:
            raise ValueError("a statement takes Resource or NotResource, not both")
        if self.principal is not None and self.not_principal is not None:
            raise ValueError("a statement takes Principal or NotPrincipal, not both")
        return self


class PolicyDocument(BaseModel):
    """A policy document: Version and one statement or a list of them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: Literal["2012-10-17", "2008-10-17"] = Field(default="2012-10-17", alias="Version")
    id: str | None = Field(default=None, alias="Id")
    statement: Statement | list[Statement] = Field(alias="Statement")

    def statements(self) -> list[Statement]:
        return as_list(self.statement)

    @model_validator(mode="after")
    def _unique_sids(self) -> PolicyDocument:
        seen: set[str] = set()
        for statement in self.statements():
            if statement.sid:
                if statement.sid in seen:
                    raise ValueError(f"Sid {statement.sid!r} is used by more than one statement")
                seen.add(statement.sid)
        return self


class IdentityPolicyDocument(PolicyDocument):
    """An identity-based policy: no Principal, and every statement names its resources."""

    @model_validator(mode="after")
    def _identity_shape(self) -> IdentityPolicyDocument:
        for statement in self.statements():
            if statement.principal is not None or statement.not_principal is not None:
                raise ValueError("an identity-based policy cannot have Principal or NotPrincipal")
            if statement.resource is None and statement.not_resource is None:
                raise ValueError("each statement of an identity-based policy needs Resource or NotResource")
        return self


class ResourcePolicyDocument(PolicyDocument):
    """A resource-based policy (a KMS key policy, a table policy): every statement names a principal."""

    @model_validator(mode="after")
    def _resource_shape(self) -> ResourcePolicyDocument:
        for statement in self.statements():
            if statement.principal is None and statement.not_principal is None:
                raise ValueError("each statement of a resource-based policy needs Principal or NotPrincipal")
        return self
