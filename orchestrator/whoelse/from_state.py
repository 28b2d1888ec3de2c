"""A :class:`~orchestrator.whoelse.question.Question` from a scenario's desired state (issue 24).

The one module of the wing that reads a scenario: it is not imported by the package (which stays
pure), and it reads the state through the same :class:`~orchestrator.prove.desired_world.DesiredWorld`
the offline engine and predictions read, so a question holds exactly the policies the gate would
decide with: the resource's policy (key policy, bucket policy, table policy, role trust policy)
with the scenario's references resolved to ARNs and the organization's to ids
(``RunContext.resolve_policy``), the key's grants, every declared user and role with its identity
policies (inline, managed, its groups', AWS managed ones from moto's bundled copy) and permissions
boundary, each scenario account's place in the organization, and the VPC endpoints.

Which accounts are closed (every user and role there declared)? None, by default. A scenario
declares the principals it needs, but a real account holds more (its administrators, other
workloads' roles), and a scenario applied to an endpoint or to AWS runs in such an account. So an
undeclared user or role session of a scenario account exists and has its identity side at its worst
(allow everything, no boundary): a policy that trusts the account (``arn:aws:iam::ACCOUNT:root``)
lets it in. ``closed`` names the accounts a caller knows to be closed (a test's universe).

Which principals ``only`` admits (``Scope.everyone(excluding)``): ``user:NAME`` that user's ARN,
``role:NAME`` every session of the role, ``session:ROLE/NAME`` that session, ``account:NAME``
every IAM principal of that account (its id), ``orchestrate`` the identity orchestrate runs as in
the resource's account (``RunContext.orchestrate_arns``).
"""
from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from orchestrator.authz.engine.inputs import Grant, PolicySource
from orchestrator.authz.engine.organization import VPC_ENDPOINT, Membership, VpcEndpoint
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.world import Identity, PolicyDoc
from orchestrator.backends.accounts import in_account
from orchestrator.errors import InvalidInputError
from orchestrator.model.scenario import DesiredState, Guarantee
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.prove.organization import organization_ids
from orchestrator.resources.context import RunContext
from orchestrator.whoelse.question import DeclaredPrincipal, Question, Scope

__all__ = ["Subject", "subject_of", "question_for", "outside_question", "scope_of", "declared_principals",
           "account_memberships", "declared_endpoints", "QuestionError", "ORCHESTRATE", "DEFAULT_TIMEOUT_MS"]

ORCHESTRATE = "orchestrate"
#: The solver's budget per action for a scenario's guarantee (a shipped one decides in well under 1 s).
DEFAULT_TIMEOUT_MS = 10_000


class QuestionError(InvalidInputError):
    """A guarantee that names what the state does not declare (the loader refuses it first)."""


@dataclass(frozen=True)
class Subject:
    """What a guarantee is about: the resource's ARN, its account and its policies."""

    arn: str
    account: str
    policy: PolicySource | None = None
    grants: tuple[Grant, ...] = ()
    restrict_public: bool = False


def world_of(ctx: RunContext, desired: DesiredState) -> DesiredWorld:
    return DesiredWorld(ctx, desired, {}, {})


def subject_of(ctx: RunContext, world: DesiredWorld, resource: str) -> Subject:
    """The resource `key:NAME`, `table:NAME`, `bucket:NAME`, `object:BUCKET/KEY` or `role:NAME`."""
    kind, _, name = resource.partition(":")
    if kind == "key":
        key = world.kms_key(ctx.arn(resource), ctx.region, ctx.account_id("keys", name))
        if key is None:
            raise QuestionError(f"{resource} is not declared in this state")
        grants = tuple(Grant(g.grantee_principal, g.operations, g.key_arn, g.encryption_context_equals,
                             g.encryption_context_subset, g.name, g.retiring_principal) for g in key.grants)
        return Subject(key.arn, key.account, PolicySource("key", f"key policy {key.arn}", key.policy), grants)
    if kind == "table":
        table = world.table(ctx.arn(resource), ctx.region, ctx.account_id("tables", name))
        if table is None:
            raise QuestionError(f"{resource} is not declared in this state")
        policy = (PolicySource("resource", f"table policy {table.arn}", table.resource_policy)
                  if table.resource_policy else None)
        return Subject(table.arn, table.account, policy)
    if kind == "role":
        role = world.role(ctx.arn(resource))
        if role is None:
            raise QuestionError(f"{resource} is not declared in this state")
        return Subject(role.arn, role.account, PolicySource("trust", f"trust policy {role.arn}", role.trust_policy))
    if kind in ("bucket", "object"):
        return _bucket_subject(ctx, world, resource)
    raise QuestionError(f"a guarantee's resource is key:, table:, bucket:, object: or role:, not {resource!r}")


def _bucket_subject(ctx: RunContext, world: DesiredWorld, resource: str) -> Subject:
    from orchestrator.authz.services.s3 import effective_block

    bucket_name = resource.partition(":")[2].partition("/")[0]
    bucket = world.bucket(ctx.bucket_name(bucket_name))
    if bucket is None:
        raise QuestionError(f"{resource} is not declared in this state")
    policy = PolicySource("resource", f"bucket policy {bucket.name}", bucket.policy) if bucket.policy else None
    restrict = effective_block(world, bucket).restrict_public_buckets  # type: ignore[arg-type]
    return Subject(ctx.arn(resource), bucket.account, policy, restrict_public=restrict)


def _source(doc: PolicyDoc) -> PolicySource:
    return PolicySource(doc.kind, doc.name, doc.document)


def declared_principals(ctx: RunContext, world: DesiredWorld, desired: DesiredState) -> tuple[DeclaredPrincipal, ...]:
    """Every user and role the state declares, with its identity policies and boundary."""
    found = []
    for name in desired.users:
        identity = world.identity_for_arn(ctx.arn(f"user:{name}"))
        if identity is not None:
            found.append(_declared(world, identity, identity.principal.arn, dict(identity.principal.tags)))
    for name in desired.roles:
        arn, account = ctx.arn(f"role:{name}"), ctx.account_id("roles", name)
        identity = Identity(Principal(arn, account, "AssumedRole", role_arn=arn), account, role_arn=arn)
        found.append(_declared(world, identity, arn, {}))
    return tuple(found)


def _declared(world: DesiredWorld, identity: Identity, arn: str, tags: dict[str, str]) -> DeclaredPrincipal:
    boundary = world.permissions_boundary(identity)
    return DeclaredPrincipal(arn, tuple(_source(doc) for doc in world.identity_policies(identity)),
                             (_source(boundary),) if boundary is not None else (), tags)


def account_memberships(ctx: RunContext, world: DesiredWorld, desired: DesiredState) -> dict[str, Membership]:
    """Each scenario account's place in the organization, by account id (none outside it)."""
    found = {}
    for name in ("home", *desired.accounts):
        account = ctx.account_named(name)
        membership = world.membership(account)
        if membership is not None:
            found[account] = membership
    return found


def declared_endpoints(ctx: RunContext, desired: DesiredState) -> tuple[VpcEndpoint, ...]:
    """The state's VPC endpoints, each policy resolved (prove/organization.py vpc_endpoint)."""
    ids = ctx.organization_ids or organization_ids(ctx.scenario, desired)
    found = []
    for name, spec in desired.vpc_endpoints.items():
        policy = None
        if spec.policy is not None:
            plain = spec.policy.model_dump(mode="json", by_alias=True, exclude_none=True)
            policy = PolicySource(VPC_ENDPOINT, name, json.dumps(ctx.resolve_policy(plain)))
        found.append(VpcEndpoint(ids.endpoint(name), ids.vpc(spec.vpc), policy))
    return tuple(found)


def scope_of(ctx: RunContext, guarantee: Guarantee, subject: Subject) -> Scope:
    """The callers the guarantee forbids: everyone but `only`, or the outsiders it names."""
    if guarantee.only is not None:
        return Scope.everyone(excluding=tuple(_admitted(ctx, entry, subject.account) for entry in guarantee.only))
    if guarantee.no_access_from == "outside-account":
        return Scope.outside_account(subject.account)
    if guarantee.no_access_from == "outside-organization":
        ids = ctx.organization_ids
        if ids is None:
            raise QuestionError("`outside-organization` needs the scenario's organization")
        return Scope.outside_organization(ids.organization)
    return Scope.the_public()


def _admitted(ctx: RunContext, entry: str, resource_account: str) -> str:
    if entry == ORCHESTRATE:
        return _orchestrate_arn(ctx, resource_account)
    kind, _, name = entry.partition(":")
    if kind == "account":
        return ctx.account_named(name)
    return ctx.arn(entry)


def _orchestrate_arn(ctx: RunContext, account: str) -> str:
    """orchestrate's principal in ``account``: its user, or the role its sessions are of (the last
    of ``orchestrate_arns``: a role excludes every session of it)."""
    home = ctx.home_context or ctx
    scoped = replace(home, backend=in_account(home.backend, account), home_context=home)
    return scoped.orchestrate_arns()[-1]


def question_for(ctx: RunContext, desired: DesiredState, guarantee: Guarantee, *,
                 world: DesiredWorld | None = None, closed: Collection[str] = (),
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Question:
    """The question a guarantee of this state asks (``ctx``: the offline context or a run's)."""
    world = world if world is not None else world_of(ctx, desired)
    subject = subject_of(ctx, world, guarantee.resource)
    return _question(ctx, desired, world, subject, tuple(guarantee.actions), scope_of(ctx, guarantee, subject),
                     closed, timeout_ms)


def outside_question(ctx: RunContext, desired: DesiredState, resource: str, actions: Sequence[str], scope: Scope, *,
                     world: DesiredWorld | None = None, closed: Collection[str] = (),
                     timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Question:
    """"Can anyone in ``scope`` (outside an account, an organization, the public, everyone but
    some) make ``actions`` on ``resource``?", a question of no guarantee (findings ask it)."""
    world = world if world is not None else world_of(ctx, desired)
    return _question(ctx, desired, world, subject_of(ctx, world, resource), tuple(actions), scope, closed, timeout_ms)


def _question(ctx: RunContext, desired: DesiredState, world: DesiredWorld, subject: Subject, actions: tuple[str, ...],
              scope: Scope, closed: Collection[str], timeout_ms: int) -> Question:
    organizations = account_memberships(ctx, world, desired)
    return Question(subject.arn, subject.account, actions, scope, resource_policy=subject.policy, grants=subject.grants,
                    restrict_public=subject.restrict_public, principals=declared_principals(ctx, world, desired),
                    organizations=organizations, resource_org=organizations.get(subject.account),
                    endpoints=declared_endpoints(ctx, desired), closed_accounts=frozenset(closed), timeout_ms=timeout_ms)
