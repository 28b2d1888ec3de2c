"""A finite universe of requests and random policy stacks over it, for the differential test of the
symbolic engine against brute force by the concrete engine (issue 24, "Done when")."""
from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from typing import Any, Iterator

from orchestrator import arns
from orchestrator.authz.engine.inputs import Grant, PolicyInputs, PolicySource
from orchestrator.authz.engine.organization import (ACCOUNT, FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS, ROOT, Membership,
                                                    OrgLevel, VpcEndpoint)
from orchestrator.authz.engine.request import Principal, Request, anonymous_principal, service_principal
from orchestrator.whoelse import DeclaredPrincipal, Question, Scope, Universe
from orchestrator.whoelse.identity import ALLOW_EVERYTHING
from orchestrator.whoelse.scope import known_accounts
from orchestrator.whoelse.symbols import MULTIVALUED

A, B, C = "111111111111", "222222222222", "333333333333"
ORG_A, ORG_B = "o-aaaaaaaaaa", "o-bbbbbbbbbb"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{B}:user/bob"
READER = f"arn:aws:iam::{A}:role/reader"
READER_SESSION = f"arn:aws:sts::{A}:assumed-role/reader/s1"
WRITER = f"arn:aws:iam::{C}:role/writer"
WRITER_SESSION = f"arn:aws:sts::{C}:assumed-role/writer/w1"
SERVICE = "cloudtrail.amazonaws.com"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OBJECT = "arn:aws:s3:::bucket/report.csv"
ROLE = f"arn:aws:iam::{A}:role/target"
VPCE, STRANGE_VPCE = "vpce-1111", "vpce-2222"

PRINCIPALS = (
    Principal(ALICE, A, "User"), Principal(BOB, B, "User"),
    Principal(READER_SESSION, A, "AssumedRole", role_arn=READER),
    Principal(WRITER_SESSION, C, "AssumedRole", role_arn=WRITER),
    Principal(f"arn:aws:iam::{A}:root", A, "Account"), Principal(f"arn:aws:iam::{B}:root", B, "Account"),
    Principal(f"arn:aws:iam::{C}:root", C, "Account"), anonymous_principal(), service_principal(SERVICE),
)
IPS = (None, "10.0.0.1", "192.0.2.1")
TRANSPORT = (None, "true", "false")
ENDPOINTS = (None, VPCE, STRANGE_VPCE)
UNIVERSE = Universe(PRINCIPALS, {"aws:SourceIp": IPS, "aws:SecureTransport": TRANSPORT}, ENDPOINTS)

#: (resource, policy kind, actions) of each kind of stack.
RESOURCES = ((KEY, "key", ("kms:Decrypt", "kms:PutKeyPolicy")), (OBJECT, "resource", ("s3:GetObject", "s3:PutObject")),
             (ROLE, "trust", ("sts:AssumeRole", "sts:TagSession")))

_CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    ("StringEquals", "aws:PrincipalOrgID", ORG_A), ("StringNotEquals", "aws:PrincipalOrgID", ORG_A),
    ("StringEquals", "aws:PrincipalOrgID", ORG_B), ("ForAnyValue:StringEquals", "aws:PrincipalOrgID", [ORG_A, ORG_B]),
    ("Null", "aws:PrincipalOrgID", "true"), ("StringEquals", "aws:PrincipalAccount", A),
    ("StringNotEquals", "aws:PrincipalAccount", [A, B]), ("StringEquals", "aws:SourceVpce", VPCE),
    ("StringNotEqualsIfExists", "aws:SourceVpce", VPCE), ("Null", "aws:SourceVpce", "false"),
    ("StringEquals", "aws:SourceVpc", "vpc-1"), ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "198.51.100.0/24"]), ("IpAddressIfExists", "aws:SourceIp", "192.0.2.0/24"),
    ("Bool", "aws:SecureTransport", "true"), ("Bool", "aws:SecureTransport", "false"),
    ("BoolIfExists", "aws:SecureTransport", "false"), ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"),
    ("ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::{B}:*"), ("StringLike", "aws:username", "al*"),
    ("StringEquals", "aws:PrincipalType", "Account"), ("StringEquals", "kms:CallerAccount", B),
    ("StringLike", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:root"),
    ("StringEquals", "aws:PrincipalAccount", "${aws:ResourceAccount}"), ("Null", "aws:SourceIp", "true"),
    ("ForAllValues:StringLike", "aws:PrincipalOrgPaths", f"{ORG_A}/*"), ("StringEqualsIgnoreCase", "aws:username", "ALICE"),
    ("Bool", "aws:PrincipalIsAWSService", "true"),
)
_NAMES: tuple[Any, ...] = (
    "*", {"AWS": "*"}, {"AWS": A}, {"AWS": B}, {"AWS": f"arn:aws:iam::{C}:root"}, {"AWS": ALICE}, {"AWS": BOB},
    {"AWS": READER}, {"AWS": WRITER}, {"AWS": READER_SESSION}, {"Service": SERVICE}, {"AWS": [B, READER]},
)


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Stacks:
    """Random policy stacks (a seeded ``random.Random``: the same stacks on every run)."""

    conditions = _CONDITIONS

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def condition(self) -> dict[str, Any] | None:
        count = self.rng.choice((0, 0, 1, 1, 2))
        if not count:
            return None
        block: dict[str, dict[str, Any]] = {}
        for operator, key, value in self.rng.sample(self.conditions, count):
            block.setdefault(operator, {})[key] = value
        return block

    def statement(self, actions: tuple[str, ...], resource: str, based: bool) -> dict[str, Any]:
        rng = self.rng
        allow = rng.random() < 0.75
        found: dict[str, Any] = {"Effect": "Allow" if allow else "Deny"}
        if based:
            name = "NotPrincipal" if not allow and rng.random() < 0.2 else "Principal"
            found[name] = rng.choice(_NAMES)
        chosen = rng.choice((list(actions), [actions[0]], [actions[-1]], "*", actions[0].split(":")[0] + ":*"))
        found["NotAction" if rng.random() < 0.1 else "Action"] = chosen
        if not based or rng.random() < 0.5:
            target = rng.choice(("*", resource, resource, "arn:aws:s3:::other/*"))
            found["NotResource" if rng.random() < 0.1 else "Resource"] = target
        condition = self.condition()
        if condition:
            found["Condition"] = condition
        return found

    def policy(self, kind: str, name: str, actions: tuple[str, ...], resource: str, based: bool,
               size: tuple[int, int] = (1, 3)) -> PolicySource:
        count = self.rng.randint(*size)
        return PolicySource(kind, name, _document([self.statement(actions, resource, based) for _ in range(count)]))

    def question(self) -> Question:
        rng = self.rng
        resource, kind, actions = rng.choice(RESOURCES)
        declared = [DeclaredPrincipal(ALICE, (self.policy("identity", "alice", actions, resource, False),)),
                    DeclaredPrincipal(READER, (self.policy("identity", "reader", actions, resource, False),),
                                      (self.policy("boundary", "bound", actions, resource, False),) if rng.random() < 0.3 else ())]
        grants = ()
        if kind == "key" and rng.random() < 0.4:
            grants = (Grant(rng.choice((BOB, READER, WRITER)), ["Decrypt"], KEY, name="g1"),)
        return Question(
            resource, A, actions, self.scope(), resource_policy=self.policy(kind, kind, actions, resource, True),
            grants=grants, restrict_public=kind == "resource" and rng.random() < 0.3, principals=tuple(declared),
            organizations=self.organizations(actions, resource), resource_org=None, endpoints=self.endpoints(actions, resource))

    def organizations(self, actions: tuple[str, ...], resource: str) -> dict[str, Membership]:
        rng = self.rng
        scps = [PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS)]
        if rng.random() < 0.3:
            scps.append(self.policy("scp", "guard", actions, resource, False, (1, 1)))
        account_scps = [PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS)] if rng.random() < 0.7 else [
            self.policy("scp", "narrow", actions, resource, False, (1, 2))]
        rcps = [PolicySource("rcp", "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS)]
        if rng.random() < 0.3:
            rcps.append(self.policy("rcp", "perimeter", actions, resource, True, (1, 1)))
        root = OrgLevel(ROOT, "root", "r-ab12", tuple(scps), tuple(rcps))

        def member(account: str, scp: list[PolicySource]) -> Membership:
            level = OrgLevel(ACCOUNT, account, account, tuple(scp), (PolicySource("rcp", "RCPFullAWSAccess", RCP_FULL_AWS_ACCESS),))
            return Membership(ORG_A, (root, level))
        found = {A: member(A, [PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS)]), B: member(B, account_scps)}
        if rng.random() < 0.5:
            found[C] = Membership(ORG_B, (OrgLevel(ROOT, "root", "r-cd34", (PolicySource("scp", "FullAWSAccess", FULL_AWS_ACCESS),)),))
        return found

    def endpoints(self, actions: tuple[str, ...], resource: str) -> tuple[VpcEndpoint, ...]:
        policy = self.policy("vpc-endpoint", VPCE, actions, resource, True, (1, 2)) if self.rng.random() < 0.5 else None
        return (VpcEndpoint(VPCE, "vpc-1", policy),)

    def scope(self) -> Scope:
        rng = self.rng
        choice = rng.random()
        if choice < 0.4:
            named = [ALICE, BOB, READER, READER_SESSION, WRITER, f"arn:aws:iam::{A}:root", "anonymous", SERVICE]
            return Scope(excluding=frozenset(rng.sample(named, rng.randint(0, 4))), within=UNIVERSE)
        if choice < 0.6:
            return Scope(outside_accounts=frozenset({A}), within=UNIVERSE)
        if choice < 0.8:
            return Scope(outside_organizations=frozenset({ORG_A}), within=UNIVERSE)
        return Scope(public=True, within=UNIVERSE)


@dataclass(frozen=True)
class Case:
    request: Request
    inputs: PolicyInputs


def in_scope(question: Question, principal: Principal) -> bool:
    """The scope's rule (orchestrator/whoelse/scope.py), concretely."""
    scope = question.scope
    for arn in scope.excluding:
        if _excluded(arn, principal):
            return False
    iam = principal.type in ("User", "AssumedRole", "Account")
    if iam and principal.account in scope.outside_accounts:
        return False
    members = {a for a, m in question.organizations.items() if m.org_id in scope.outside_organizations}
    if iam and principal.account in members:
        return False
    if scope.public and not (principal.type == "Anonymous" or (iam and principal.account not in known_accounts(question))):
        return False
    return True


def _excluded(arn: str, principal: Principal) -> bool:
    role = arns.ROLE_ARN.match(arn)
    if role is not None:
        session = arns.SESSION_ARN.match(principal.arn)
        return session is not None and (session["account"], session["role"]) == (role["account"], role["name"])
    return principal.arn == arn


def _options(key: str, listed: tuple[str | None, ...]) -> list[tuple[str, ...] | None]:
    """A single-valued key's values (None: absent); a multivalued key's sets of the listed values."""
    values = [value for value in listed if value is not None]
    if key.lower() not in MULTIVALUED:
        return [None if value is None else (value,) for value in listed]
    subsets = [tuple(c) for size in range(1, len(values) + 1) for c in itertools.combinations(values, size)]
    return [None, *subsets]


def requests(question: Question, action: str, universe: Universe = UNIVERSE) -> Iterator[Case]:
    """Every request of the universe, with the inputs the concrete engine decides it with."""
    declared = {d.arn: d for d in question.principals}
    endpoints = {e.id: e for e in question.endpoints}
    keys = sorted(universe.values)
    choices = [_options(key, universe.values[key]) for key in keys]
    for principal, vpce, *values in itertools.product(universe.principals, universe.endpoints, *choices):
        context: dict[str, tuple[str, ...]] = {"aws:ResourceAccount": (question.resource_account or "",)}
        context.update({key: value for key, value in zip(keys, values) if value is not None})
        iam = principal.type in ("User", "AssumedRole", "Account")
        if action.startswith("kms:") and iam:
            context["kms:CallerAccount"] = (principal.account,)
        own = declared.get(principal.role_arn or principal.arn)
        identity = tuple(own.identity) if own else (ALLOW_EVERYTHING,) if principal.type in ("User", "AssumedRole") else ()
        endpoint = None if vpce is None else endpoints.get(vpce, VpcEndpoint(vpce))
        inputs = PolicyInputs(identity=identity, boundaries=tuple(own.boundaries) if own else (),
                              resource_policy=question.resource_policy, resource_account=question.resource_account,
                              grants=tuple(question.grants), restrict_public=question.restrict_public,
                              principal_org=question.organizations.get(principal.account) if principal.account else None,
                              resource_org=question.resource_org, vpc_endpoint=endpoint)
        yield Case(Request(principal, action, question.resource, context), inputs)


#: The second universe: multivalued keys (sets of tag keys) and the encryption context, with grants.
SET_UNIVERSE = Universe(
    (PRINCIPALS[0], PRINCIPALS[1], PRINCIPALS[2], PRINCIPALS[3], PRINCIPALS[6], PRINCIPALS[7]),
    {"aws:TagKeys": ("team", "secret"), "kms:EncryptionContext:purpose": (None, "billing", "hr")})
_SET_CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    ("ForAnyValue:StringEquals", "aws:TagKeys", "team"), ("ForAllValues:StringEquals", "aws:TagKeys", ["team"]),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", "team"), ("ForAllValues:StringNotLike", "aws:TagKeys", "sec*"),
    ("StringEquals", "aws:TagKeys", "team"), ("StringNotEquals", "aws:TagKeys", "secret"), ("Null", "aws:TagKeys", "true"),
    ("ForAnyValue:StringLike", "aws:TagKeys", ["s*", "x"]), ("StringEquals", "kms:EncryptionContext:purpose", "billing"),
    ("StringNotEqualsIfExists", "kms:EncryptionContext:purpose", "hr"), ("Null", "kms:EncryptionContext:purpose", "false"),
    ("StringLike", "kms:EncryptionContext:purpose", "b*"), ("StringEqualsIgnoreCase", "kms:EncryptionContext:purpose", "BILLING"),
    ("StringEquals", "aws:PrincipalAccount", B), ("StringEquals", "aws:PrincipalOrgID", ORG_A),
)


class SetStacks(Stacks):
    """Key policies over the second universe, with grants constrained by the encryption context."""

    conditions = _SET_CONDITIONS

    def question(self) -> Question:
        rng = self.rng
        actions = ("kms:Decrypt", "kms:Encrypt")
        declared = [DeclaredPrincipal(ALICE, (self.policy("identity", "alice", actions, KEY, False),)),
                    DeclaredPrincipal(READER, (self.policy("identity", "reader", actions, KEY, False),))]
        grants = []
        for _ in range(rng.randint(0, 2)):
            pairs = {"purpose": rng.choice(("billing", "hr"))}
            exact = rng.random() < 0.5
            grants.append(Grant(rng.choice((BOB, READER, WRITER)), [rng.choice(("Decrypt", "Encrypt"))], KEY,
                                encryption_context_equals=pairs if exact else None,
                                encryption_context_subset=None if exact else pairs, name=f"g{len(grants)}"))
        scope = rng.choice((Scope(within=SET_UNIVERSE), Scope(outside_accounts=frozenset({A}), within=SET_UNIVERSE),
                            Scope(excluding=frozenset({BOB, READER}), within=SET_UNIVERSE)))
        return Question(KEY, A, actions, scope, resource_policy=self.policy("key", "key", actions, KEY, True),
                        grants=tuple(grants), principals=tuple(declared), organizations=self.organizations(actions, KEY))


#: The third universe: typed keys (dates, numbers, IPv4 and IPv6 addresses).
TYPED_UNIVERSE = Universe(
    (PRINCIPALS[1], PRINCIPALS[3], PRINCIPALS[7]),
    {"aws:CurrentTime": (None, "2020-01-01T00:00:00Z", "2031-06-01T12:00:00Z"),
     "aws:SourceIp": (None, "10.0.0.1", "2001:db8::1"), "aws:MultiFactorAuthAge": (None, "100", "5000")})
_TYPED_CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"), ("DateGreaterThanIfExists", "aws:CurrentTime", "2025-01-01T00:00:00Z"),
    ("DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z"), ("IpAddress", "aws:SourceIp", "2001:db8::/32"),
    ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"), ("IpAddressIfExists", "aws:SourceIp", ["10.0.0.0/16", "2001:db8:1::/48"]),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600"), ("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "100.5"),
    ("NumericNotEqualsIfExists", "aws:MultiFactorAuthAge", "100"), ("Null", "aws:MultiFactorAuthAge", "true"),
    ("Null", "aws:CurrentTime", "false"), ("StringEquals", "aws:PrincipalAccount", B),
)


class TypedStacks(Stacks):
    """Bucket policies whose conditions read dates, numbers and IP addresses."""

    conditions = _TYPED_CONDITIONS

    def question(self) -> Question:
        actions = ("s3:GetObject", "s3:PutObject")
        scope = self.rng.choice((Scope(within=TYPED_UNIVERSE), Scope(excluding=frozenset({BOB}), within=TYPED_UNIVERSE)))
        return Question(OBJECT, A, actions, scope, resource_policy=self.policy("resource", "bucket", actions, OBJECT, True, (1, 4)))
