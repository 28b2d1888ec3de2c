"""What a guarantee asks: who else (beyond the excluded) can do these actions on this resource?

A :class:`Question` holds the policy stack exactly as the concrete engine takes it
(:class:`~orchestrator.authz.engine.inputs.PolicyInputs` parts) and a :class:`Scope`: the principals
quantified over. Every principal is: an IAM user, a role session or an account root user of any
account (twelve digits), the anonymous caller, or an AWS service principal. A principal the question
does not declare (another account's user, a role that does not exist yet) has its identity side at
its worst: its identity-based policies allow everything, no permissions boundary limits it (the
issue's rule; IAM User Guide, "Cross-account policy evaluation logic": the other account decides its
own side).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from orchestrator.authz.engine.inputs import Grant, PolicySource
from orchestrator.authz.engine.organization import Membership, VpcEndpoint
from orchestrator.authz.engine.request import Principal

__all__ = ["DeclaredPrincipal", "Scope", "Universe", "Question"]


@dataclass(frozen=True)
class DeclaredPrincipal:
    """A principal whose identity side is known: an IAM user ARN (that user) or an IAM role ARN (every
    session of that role). ``tags``: a user's tags (a session's tags are left free)."""

    arn: str
    identity: Sequence[PolicySource] = ()
    boundaries: Sequence[PolicySource] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Universe:
    """A finite request space (the differential test's): the callers, and for each condition key
    (any case) the values it may take (None: absent; a multivalued key is any set of them, the empty
    set too); a key not listed is absent. ``endpoints``: the
    VPC endpoint ids a request may come through (None: none)."""

    principals: tuple[Principal, ...]
    values: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    endpoints: tuple[str | None, ...] = (None,)


@dataclass(frozen=True)
class Scope:
    """Who is quantified over: every principal, less ``excluding`` (principal ARNs: a user, a
    session, a root user, ``anonymous``, a service name; a role ARN excludes every session of the
    role), and only those of the classes asked for: outside these accounts, outside these
    organizations, or the public (the anonymous caller and principals of an account that the
    question names nowhere: a stranger). ``service_linked``: whether sessions of service-linked roles
    are quantified over (neither SCPs nor RCPs restrict them, Organizations User Guide, "SCP
    evaluation" and "RCP evaluation"; what they may do is fixed by their service, so a guarantee may
    leave them out, saying so). ``within``: a finite universe (tests)."""

    excluding: frozenset[str] = frozenset()
    outside_accounts: frozenset[str] = frozenset()
    outside_organizations: frozenset[str] = frozenset()
    public: bool = False
    service_linked: bool = True
    within: Universe | None = None
    #: Only callers of these accounts (the access matrix's "anyone in account X" rows); empty: any.
    accounts: frozenset[str] = frozenset()
    #: Only callers of these types (``Principal.type``: User, AssumedRole, Account, Anonymous,
    #: Service); empty: any.
    types: frozenset[str] = frozenset()

    @classmethod
    def everyone(cls, excluding: Sequence[str] = ()) -> Scope:
        """``only: [arn, ...]``: everyone but the named."""
        return cls(excluding=frozenset(excluding))

    @classmethod
    def outside_account(cls, account: str) -> Scope:
        return cls(outside_accounts=frozenset({account}))

    @classmethod
    def outside_organization(cls, org_id: str) -> Scope:
        return cls(outside_organizations=frozenset({org_id}))

    @classmethod
    def the_public(cls) -> Scope:
        return cls(public=True)

    @classmethod
    def inside_accounts(cls, accounts: Sequence[str]) -> Scope:
        """Every principal of these accounts (IAM users, role sessions, root users)."""
        return cls(accounts=frozenset(accounts))

    @classmethod
    def anonymous(cls) -> Scope:
        """The anonymous caller (an unsigned request) alone."""
        return cls(types=frozenset({"Anonymous"}))


@dataclass(frozen=True)
class Question:
    """May anyone in ``scope`` do one of ``actions`` on ``resource``?

    ``organizations``: the membership of each account known to be in an organization (an account
    not listed is in none, or in one that is not declared, whose SCPs are taken to allow).
    ``endpoints``: the VPC endpoints declared; a request may also come through none, or through an
    undeclared endpoint whose policy is taken to allow. ``closed_accounts``: accounts whose users
    and roles are all declared (no undeclared user or session exists there)."""

    resource: str
    resource_account: str | None
    actions: tuple[str, ...]
    scope: Scope = field(default_factory=Scope)
    resource_policy: PolicySource | None = None
    grants: Sequence[Grant] = ()
    restrict_public: bool = False
    principals: Sequence[DeclaredPrincipal] = ()
    organizations: Mapping[str, Membership] = field(default_factory=dict)
    resource_org: Membership | None = None
    endpoints: Sequence[VpcEndpoint] = ()
    closed_accounts: frozenset[str] = frozenset()
    #: The solver's budget per action, in milliseconds (z3's ``timeout``).
    timeout_ms: int = 10_000
