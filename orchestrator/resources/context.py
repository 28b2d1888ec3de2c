"""What every reconciler needs: the backend, naming, ownership tags, and symbolic references.

Physical names carry the `--run-id` prefix so that parallel runs of one scenario in one account
do not collide. Everything created is tagged `orchestrate:scenario` and `orchestrate:run`; IAM
groups cannot be tagged, so their path (`/orchestrate/SCENARIO/`) marks ownership instead.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator import arns
from orchestrator.backends.accounts import in_account
from orchestrator.backends.base import Backend, BackendError
from orchestrator.errors import BackendFailure
from orchestrator.constants import TAG_NAME, TAG_RUN, TAG_SCENARIO
from orchestrator.model.names import made_name, physical_name, scenario_path
from orchestrator.model.organization import Organization, OrganizationIds, resolve_org_references
from orchestrator.model.policy import ARN_OPERATORS, ORCHESTRATE, base_operator

#: Sections whose entities may live in another account (`account: NAME`).
ENTITY_SECTIONS = ("users", "roles", "keys", "tables", "buckets")
#: The section keyed by account name (`home` or one of `accounts`): each account's own setting.
ACCOUNT_BLOCK_SECTION = "account_public_access_block"
# TAG_SCENARIO, TAG_RUN, TAG_NAME: imported from orchestrator.constants, read from here by the rooms above.
DEFAULT_RUN = "default"
#: Every key's ownership alias lives under this prefix (see RunContext.ownership_alias).
OWNERSHIP_ALIAS_PREFIX = "alias/orchestrate/"
#: ctx.cache entry preflight sets when the account holds nothing of this scenario and run: an
#: ownership alias that is missing then means the key does not exist (no scan of the account).
FRESH_WORLD = "fresh_world"
UNKNOWN = "(known after apply)"


class ConflictError(BackendFailure):
    """A same-named resource exists that this scenario does not own."""


@dataclass
class RunContext:
    backend: Backend
    scenario: str
    run_id: str | None = None
    adopt: bool = False
    #: --manage-organization: on real AWS, apply and destroy may change the organization's SCPs,
    #: RCPs and units that carry this scenario's tags (resources/organization_changes.py).
    manage_organization: bool = False
    #: ARNs learnt while reading and creating: "key:data" -> arn:aws:kms:...
    known: dict[str, str] = field(default_factory=dict)
    #: Role name -> its declared path (IAM ARNs carry the path: arn:aws:iam::ACCOUNT:role/PATH/NAME).
    role_paths: dict[str, str] = field(default_factory=dict)
    #: The scenario's other accounts (name -> id), and the account name of each entity that says one.
    accounts: dict[str, str] = field(default_factory=dict)
    entity_accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    #: For a context in another account (`for_entity`): the scenario's own context.
    home_context: RunContext | None = None
    account_caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Per-run read caches (one scan of KMS keys, for instance); reconcilers keep them current.
    cache: dict[str, Any] = field(default_factory=dict)
    #: The scenario's organization (the same in every state) and the ids its references resolve to:
    #: the embedded ones, derived from the scenario's name (model/organization.py), until observed
    #: ones take their place. None: the scenario declares no organization.
    organization: Organization | None = None
    organization_ids: OrganizationIds | None = None

    @property
    def account(self) -> str:
        return self.backend.account_id

    @property
    def region(self) -> str:
        return self.backend.region

    def physical(self, name: str) -> str:
        """`RUN-NAME` (model/names.py, which checks it against AWS's name rules before any run)."""
        return physical_name(self.run_id, name)

    def bucket_name(self, name: str) -> str:
        """S3 bucket names are lowercase (S3 User Guide, "Bucket naming rules"), so is the run prefix."""
        return made_name("buckets", self.run_id, name)

    def declare(self, states: Any) -> None:
        """Learn from the desired states what ARNs need: roles' paths, the scenario's accounts and
        the account of every entity that names one (the same in every state)."""
        for state in states:
            self.accounts.update(state.accounts)
            if self.organization is None and getattr(state, "organization", None) is not None:
                self.organization = state.organization
                self.organization_ids = OrganizationIds.embedded(self.scenario, state.organization.units)
        for name, account_id in self.accounts.items():
            if account_id == self.home_account:
                raise BackendError(f"the scenario's account {name!r} ({account_id}) is the home account this run acts in;"
                                   " another account needs another id")
        for state in states:
            for name, role in state.roles.items():
                self.role_paths[name] = role.path
            for section in ENTITY_SECTIONS:
                for name in getattr(state, section):
                    account = state.account_of(section, name)
                    if account is not None:
                        self.entity_accounts[(section, name)] = account
            for name in state.account_public_access_block:  # the setting of the account it names
                if name != "home":
                    self.entity_accounts[(ACCOUNT_BLOCK_SECTION, name)] = name

    @property
    def home_account(self) -> str:
        """The scenario's own account (`home`)."""
        return self.home_context.account if self.home_context is not None else self.account

    def account_named(self, account: str | None) -> str:
        """The id of a scenario account by name (None or `home`: the scenario's own)."""
        return self.home_account if account in (None, "home") else self.accounts[account]

    def account_id(self, section: str, name: str) -> str:
        """The id of the account an entity lives in."""
        return self.account_named(self.entity_accounts.get((section, name)))

    def for_entity(self, section: str, name: str) -> RunContext:
        """The context reconcilers use for an entity: orchestrate's identity in its account."""
        home = self.home_context or self
        account = home.account_id(section, name)
        if account == home.account:
            return home
        return replace(home, backend=in_account(home.backend, account), home_context=home,
                       cache=home.account_caches.setdefault(account, {}))

    def iam_path(self) -> str:
        return scenario_path(self.scenario)

    def ownership_tags(self, name: str) -> dict[str, str]:
        return {TAG_SCENARIO: self.scenario, TAG_RUN: self.run_id or DEFAULT_RUN, TAG_NAME: name}

    def ownership_alias(self, name: str) -> str:
        """The alias that finds the key `name` of this scenario and run in O(1) (KMS keys have
        no name): `alias/orchestrate/SCENARIO/RUN/NAME`, each part escaped to the characters alias
        names allow (KMS API Reference, CreateAlias: `^alias/[a-zA-Z0-9/_-]+$`, 256 at most):
        any other byte, `_` included, as `_xx`, so distinct names never share an alias. A name too
        long for that is hashed. Aliases grant nothing; the key it names is ours only if it
        carries our ownership tags, which every lookup checks."""
        parts = (self.scenario, self.run_id or DEFAULT_RUN, name)
        alias = OWNERSHIP_ALIAS_PREFIX + "/".join(_alias_part(part) for part in parts)
        if len(alias) <= 256:
            return alias
        return OWNERSHIP_ALIAS_PREFIX + "sha256-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def owns(self, tags: dict[str, str]) -> bool:
        return tags.get(TAG_SCENARIO) == self.scenario and tags.get(TAG_RUN) == (self.run_id or DEFAULT_RUN)

    def arn(self, reference: str) -> str:
        """The ARN a scenario reference stands for (`user:tester`, `key:data`, `account`, ...)."""
        if reference == "account":  # the account of the entity whose policy says it
            return arns.root_arn(self.account)
        kind, _, name = reference.partition(":")
        if kind == "account":
            return arns.root_arn(self.account_named(name))
        if kind == "user":
            return arns.user_arn(self.account_id("users", name), self.physical(name))
        if kind == "group":
            return arns.group_arn(self.home_account, self.physical(name), self.iam_path())
        if kind == "policy":
            return arns.policy_arn(self.home_account, self.physical(name), self.iam_path())
        if kind == "role":
            return arns.role_arn(self.account_id("roles", name), self.physical(name), self.role_paths.get(name, "/"))
        if kind == "session":  # `session:ROLE/NAME`: a session of a scenario role (STS: no role path)
            role, _, session = name.partition("/")
            return arns.assumed_role_arn(self.account_id("roles", role), self.physical(role), session)
        if kind == "bucket":
            return arns.bucket_arn(self.bucket_name(name))
        if kind == "object":
            bucket, _, key = name.partition("/")
            return arns.object_arn(self.bucket_name(bucket), key)
        if kind == "table":
            return arns.table_arn(self.region, self.account_id("tables", name), self.physical(name))
        if kind == "key":
            return self.known.get(reference, UNKNOWN)
        return reference

    def resolve_policy(self, document: dict[str, Any]) -> dict[str, Any]:
        """A policy document with scenario references replaced by ARNs, and the organization's
        (`organization`, `ou:UNIT` in the org condition keys) by its ids."""
        resolved = copy.deepcopy(document)
        statements = resolved.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            self._resolve_statement(statement)
        if self.organization is not None:
            return resolve_org_references(resolved, self.organization, self.organization_ids)
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
            return [arn for value in values for arn in self._resolved_list(value)]
        found = self._resolved_list(values)
        return found[0] if len(found) == 1 else found

    def _resolved_list(self, value: Any) -> list[Any]:
        return self.orchestrate_arns() if value == ORCHESTRATE else [self._resolve_one(value)]

    def orchestrate_arns(self) -> list[str]:
        """`orchestrate` in a policy: every ARN AWS matches for the identity orchestrate runs as in
        this context's account (the policy's). A user's (or root's) ARN is itself; a role session is
        matched as its session ARN (Principal, NotPrincipal: IAM User Guide, "Role session
        principals") and as its role's ARN (aws:PrincipalArn, a Principal naming the role), so both
        are listed. The role's path is not in a session ARN: `/` is assumed (IAM's default). moto's
        answer for orchestrate's keys, `arn:aws:sts::ACCOUNT:user/moto`, is read as the IAM user
        `moto`, as the gate reads it (authz/gate/caller.py)."""
        from orchestrator.authz.gate.caller import principal_arn

        arn = str(self.backend.identity()["Arn"])
        if arns.session_role_arn(arn) is None:
            return [principal_arn(arn)]
        return [arn, principal_arn(arn)]

    def _resolve_one(self, value: Any) -> Any:
        if not isinstance(value, str) or arns.is_arn(value) or value == "*":
            return value
        if value == "account" or value.partition(":")[0] in ("user", "group", "policy", "table", "key", "role", "bucket", "object", "account",
                                                                    "session"):
            return self.arn(value)
        return value

    def managed_policy_arn(self, name: str) -> str:
        """`policy:NAME` is the scenario's own policy; any other name is an AWS managed policy."""
        if name.startswith("policy:"):
            return self.arn(name)
        if arns.is_arn(name):
            return name
        return arns.aws_managed_policy_arn(name)


def _alias_part(text: str) -> str:
    return "".join(chr(byte) if chr(byte).isascii() and (chr(byte).isalnum() or byte == 0x2D) else f"_{byte:02x}"
                   for byte in text.encode())
