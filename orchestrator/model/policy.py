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

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator, model_validator

from orchestrator.arns import POLICY_ARN

ACTION_PATTERN = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
REFERENCE_PATTERN = re.compile(r"^((user|key|table|group|policy|role|bucket|account):([A-Za-z0-9_.+=,@-]+)|object:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*"
                               r"|session:[A-Za-z0-9_.+=,@-]{1,64}/[A-Za-z0-9_+=,.@-]{2,64})$")
ARN_PATTERN = POLICY_ARN
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
ORCHESTRATE_NAME = "orchestrate"

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

#: AWS's shorthand: one string, or a list of them. An empty list names nothing: IAM refuses it
#: with MalformedPolicyDocument ("Policy statement must contain actions", and the like).
StrOrList = str | Annotated[list[str], Field(min_length=1)]


def _inner(pattern: re.Pattern[str]) -> str:
    return pattern.pattern.removeprefix("^").removesuffix("$")


def _one_or_more(pattern: str) -> Any:
    """StrOrList whose strings the JSON Schema checks with ``pattern`` too (the model's validators
    check them with the same expressions, and say why in AWS's words)."""
    text = Annotated[str, WithJsonSchema({"type": "string", "pattern": pattern})]
    return text | Annotated[list[text], Field(min_length=1)]  # type: ignore[valid-type]


ActionList = _one_or_more(ACTION_PATTERN.pattern)
ResourceList = _one_or_more(rf"^(\*|account|{_inner(REFERENCE_PATTERN)}|{_inner(ARN_PATTERN)})$")
PrincipalList = _one_or_more(rf"^(\*|account|{ORCHESTRATE_NAME}|\d{{12}}|{_inner(REFERENCE_PATTERN)}"
                             r"|arn:(aws|aws-cn|aws-us-gov|\*):(iam|sts):.+)$")
ConditionValue = str | bool | int | float | list[str | bool | int | float]
#: The models take what the author wrote, as written: no "7" for 7, no "off" for false, no 7.0 for 7.
#: Pydantic's lax mode would coerce them, and the JSON Schema (and every editor that reads it) would
#: refuse what `validate` accepts. YAML 1.1's `yes`/`off` are booleans once loaded (loader/source.py).
STRICT = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


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
ORCHESTRATE = ORCHESTRATE_NAME


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

    model_config = ConfigDict(**STRICT, json_schema_extra={"minProperties": 1})  # as _not_empty says

    aws: PrincipalList | None = Field(default=None, alias="AWS")
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


def _present(element: str) -> dict[str, Any]:
    return {"required": [element], "properties": {element: {"not": {"type": "null"}}}}


class Statement(BaseModel):
    """One policy statement (IAM JSON policy elements reference)."""

    # The schema says "exactly one of Action or NotAction" as the model does (_exclusive_elements).
    model_config = ConfigDict(**STRICT, json_schema_extra={"oneOf": [_present("Action"), _present("NotAction")]})

    sid: Annotated[str, Field(pattern=r"^[A-Za-z0-9]*$")] | None = Field(default=None, alias="Sid")
    effect: Literal["Allow", "Deny"] = Field(alias="Effect")
    principal: Principal | None = Field(default=None, alias="Principal")
    not_principal: Principal | None = Field(default=None, alias="NotPrincipal")
    action: ActionList | None = Field(default=None, alias="Action")
    not_action: ActionList | None = Field(default=None, alias="NotAction")
    resource: ResourceList | None = Field(default=None, alias="Resource")
    not_resource: ResourceList | None = Field(default=None, alias="NotResource")
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

    model_config = STRICT

    version: Literal["2012-10-17", "2008-10-17"] = Field(default="2012-10-17", alias="Version")
    id: str | None = Field(default=None, alias="Id")
    #: IAM User Guide, "Grammar of the IAM JSON policy language": `<statement_block> = "Statement" :
    #: [ <statement>, <statement>, ... ]`; an empty list is MalformedPolicyDocument.
    statement: Statement | Annotated[list[Statement], Field(min_length=1)] = Field(alias="Statement")

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
    """An identity-based policy: no Principal, and every statement names its resources (IAM User
    Guide, "IAM JSON policy elements: Principal": "You cannot use the Principal element in an
    identity-based policy"; "Resource": an identity-based policy statement must include it)."""

    @model_validator(mode="after")
    def _identity_shape(self) -> IdentityPolicyDocument:
        for statement in self.statements():
            if statement.principal is not None or statement.not_principal is not None:
                raise ValueError("an identity-based policy cannot have Principal or NotPrincipal")
            if statement.resource is None and statement.not_resource is None:
                raise ValueError("each statement of an identity-based policy needs Resource"
                                 " or NotResource")
        return self


class PrincipalPolicyDocument(PolicyDocument):
    """A policy attached to what it governs: every statement names its principal (IAM User Guide,
    "IAM JSON policy elements: Principal": a resource-based policy must include Principal or NotPrincipal)."""

    @model_validator(mode="after")
    def _principal_shape(self) -> PrincipalPolicyDocument:
        for statement in self.statements():
            if statement.principal is None and statement.not_principal is None:
                raise ValueError("each statement of a resource-based policy needs Principal"
                                 " or NotPrincipal")
        return self


class ResourcePolicyDocument(PrincipalPolicyDocument):
    """A resource-based policy (a KMS key policy, a table policy, a bucket policy). Its Resource
    rules are the loader's, per service (loader/bucket_checks.py, table_policy.py), where they
    can name the resource the statement must cover."""


class TrustPolicyDocument(PrincipalPolicyDocument):
    """A role trust policy (AssumeRolePolicyDocument): a resource-based policy on the role without
    Resource (IAM User Guide, "IAM JSON policy elements: Resource": the role itself is the
    resource; AWS refuses Resource in a trust policy with MalformedPolicyDocument)."""

    @model_validator(mode="after")
    def _no_resource(self) -> TrustPolicyDocument:
        for statement in self.statements():
            if statement.resource is not None or statement.not_resource is not None:
                raise ValueError("a role trust policy cannot have Resource or NotResource:"
                                 " the role itself is the resource")
        return self
