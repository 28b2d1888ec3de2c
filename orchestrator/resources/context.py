"""What every reconciler needs: the backend, naming, ownership tags, and symbolic references.

Physical names carry the `--run-id` prefix so that parallel runs of one scenario in one account
do not collide. Everything created is tagged `orchestrate:scenario` and `orchestrate:run`; IAM
groups cannot be tagged, so their path (`/orchestrate/SCENARIO/`) marks ownership instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from orchestrator.backends.base import Backend
from orchestrator.model.policy import ARN_OPERATORS, base_operator

TAG_SCENARIO = "orchestrate:scenario"
TAG_RUN = "orchestrate:run"
TAG_NAME = "orchestrate:name"
DEFAULT_RUN = "default"
UNKNOWN = "(known after apply)"


class ConflictError(Exception):
    """A same-named resource exists that this scenario does not own."""


@dataclass
class Context:
    backend: Backend
    scenario: str
    run_id: str | None = None
    adopt: bool = False
    #: ARNs learnt while reading and creating: "key:data" -> arn:aws:kms:...
    known: dict[str, str] = field(default_factory=dict)
    planning: bool = False
    #: Role name -> its declared path (IAM ARNs carry the path: arn:aws:iam::ACCOUNT:role/PATH/NAME).
    role_paths: dict[str, str] = field(default_factory=dict)
    #: Per-run read caches (one scan of KMS keys, for instance); reconcilers keep them current.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return self.backend.account_id

    @property
    def region(self) -> str:
        return self.backend.region

    def physical(self, name: str) -> str:
        return f"{self.run_id}-{name}" if self.run_id else name

    def bucket_name(self, name: str) -> str:
        """S3 bucket names are lowercase (S3 User Guide, "Bucket naming rules"), so is the run prefix."""
        return self.physical(name).lower()

    def declare_roles(self, states: Any) -> None:
        """Learn the declared path of every role of these desired states (their ARNs need it)."""
        for state in states:
            for name, role in state.roles.items():
                self.role_paths[name] = role.path

    def iam_path(self) -> str:
        return f"/orchestrate/{self.scenario}/"

    def ownership_tags(self, name: str) -> dict[str, str]:
        return {TAG_SCENARIO: self.scenario, TAG_RUN: self.run_id or DEFAULT_RUN, TAG_NAME: name}

    def owns(self, tags: dict[str, str]) -> bool:
        return tags.get(TAG_SCENARIO) == self.scenario and tags.get(TAG_RUN) == (self.run_id or DEFAULT_RUN)

    def arn(self, reference: str) -> str:
        """The ARN a scenario reference stands for (`user:tester`, `key:data`, `account`, ...)."""
        if reference == "account":
            return f"arn:aws:iam::{self.account}:root"
        kind, _, name = reference.partition(":")
        if kind == "user":
            return f"arn:aws:iam::{self.account}:user/{self.physical(name)}"
        if kind == "group":
            return f"arn:aws:iam::{self.account}:group{self.iam_path()}{self.physical(name)}"
        if kind == "policy":
            return f"arn:aws:iam::{self.account}:policy{self.iam_path()}{self.physical(name)}"
        if kind == "role":
            return f"arn:aws:iam::{self.account}:role{self.role_paths.get(name, '/')}{self.physical(name)}"
        if kind == "bucket":
            return f"arn:aws:s3:::{self.bucket_name(name)}"
        if kind == "object":
            bucket, _, key = name.partition("/")
            return f"arn:aws:s3:::{self.bucket_name(bucket)}/{key}"
        if kind == "table":
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.physical(name)}"
        if kind == "key":
            return self.known.get(reference, UNKNOWN)
        return reference

    def resolve_policy(self, document: dict[str, Any]) -> dict[str, Any]:
        """A policy document with scenario references replaced by ARNs."""
        resolved = copy.deepcopy(document)
        statements = resolved.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            self._resolve_statement(statement)
        return resolved

    def _resolve_statement(self, statement: dict[str, Any]) -> None:
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element)
            if isinstance(principal, dict) and "AWS" in principal:
                principal["AWS"] = self._resolve_values(principal["AWS"])
        for element in ("Resource", "NotResource"):
            if element in statement:
                statement[element] = self._resolve_values(statement[element])
        for operator, block in (statement.get("Condition") or {}).items():
            if base_operator(operator) in ARN_OPERATORS:
                for key, values in block.items():
                    block[key] = self._resolve_values(values)

    def _resolve_values(self, values: Any) -> Any:
        if isinstance(values, list):
            return [self._resolve_one(v) for v in values]
        return self._resolve_one(values)

    def _resolve_one(self, value: Any) -> Any:
        if not isinstance(value, str) or value.startswith("arn:") or value == "*":
            return value
        if value == "account" or value.partition(":")[0] in ("user", "group", "policy", "table", "key", "role", "bucket", "object"):
            return self.arn(value)
        return value

    def managed_policy_arn(self, name: str) -> str:
        """`policy:NAME` is the scenario's own policy; any other name is an AWS managed policy."""
        if name.startswith("policy:"):
            return self.arn(name)
        if name.startswith("arn:"):
            return name
        return f"arn:aws:iam::aws:policy/{name}"
